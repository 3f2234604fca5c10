// Sign-in happens in a window of its own, so that this page (and the secrets in its memory) stays
// loaded: the window answers with one postMessage from this origin, and closes.
export function signInWindow<T extends { type: string }>(url: string, type: string, name: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const popup = window.open(url, name, "popup,width=520,height=720");
    if (!popup) {
      reject(new Error("The sign-in window was blocked. Allow pop-ups for this site and try again."));
      return;
    }
    const done = (): void => {
      window.removeEventListener("message", onMessage);
      window.clearInterval(watch);
    };
    const onMessage = (event: MessageEvent): void => {
      if (event.origin !== window.location.origin || event.source !== popup) return;
      const data = event.data as T | null;
      if (!data || data.type !== type) return;
      done();
      resolve(data);
    };
    const watch = window.setInterval(() => {
      if (popup.closed) {
        done();
        reject(new Error("The sign-in window was closed before signing in."));
      }
    }, 500);
    window.addEventListener("message", onMessage);
  });
}
