// Reading every page of a listing: the SDK v3 paginators (paginateDescribeSubnets, …) follow the
// NextToken / ContinuationToken; this only gathers what the pages carry.

/** Every item of every page `pages` (an SDK paginator) yields. */
export async function allPages<P, T>(pages: AsyncIterable<P>, itemsOf: (page: P) => readonly T[] | undefined): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...(itemsOf(page) ?? []));
  return items;
}
