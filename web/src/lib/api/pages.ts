// A list the API pages (limit, next_token), read to its end: a clinic may have more locations or
// doctors than one page holds, and a select that shows only the first page hides the rest.
// ``maxPages`` bounds a list that could be long (a location's free slots), the pages read first kept.
export async function allPages<T>(
  page: (next?: string) => Promise<{ items: T[]; next_token?: string | null }>,
  maxPages = Infinity,
): Promise<T[]> {
  const all: T[] = [];
  let next: string | undefined;
  for (let read = 0; read < maxPages; read += 1) {
    const found = await page(next);
    all.push(...found.items);
    if (!found.next_token) break;
    next = found.next_token;
  }
  return all;
}

export const after = (next?: string) => (next ? { next_token: next } : {});
