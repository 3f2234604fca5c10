// A list the API pages (limit, next_token), read to its end: a clinic may have more locations or
// doctors than one page holds, and a select that shows only the first page hides the rest.
export async function allPages<T>(page: (next?: string) => Promise<{ items: T[]; next_token?: string | null }>): Promise<T[]> {
  const all: T[] = [];
  let next: string | undefined;
  for (;;) {
    const found = await page(next);
    all.push(...found.items);
    if (!found.next_token) return all;
    next = found.next_token;
  }
}

export const after = (next?: string) => (next ? { next_token: next } : {});
