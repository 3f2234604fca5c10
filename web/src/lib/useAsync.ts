import { useCallback, useEffect, useRef, useState } from "react";

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` whenever `deps` change (and on reload), keeping only the latest answer. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], enabled = true): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: enabled });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    if (!enabled) {
      setState({ loading: false });
      return;
    }
    const run = ++latest.current;
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => run === latest.current && setState({ data, loading: false }),
      (error: unknown) => run === latest.current && setState({ error, loading: false }),
    );
  }, [...deps, tick, enabled]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
