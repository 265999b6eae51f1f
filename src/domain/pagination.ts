/** Page arithmetic shared by every list: `page` from 1, `per_page` up to 100. */
export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

export interface PageRequest {
  page: number;
  per_page: number;
}

export interface Pagination {
  current_page: number;
  total_pages: number;
  total_count: number;
  next_page: number | null;
  prev_page: number | null;
}

export function pageOffset(p: PageRequest): number {
  return (p.page - 1) * p.per_page;
}

export function pagination(p: PageRequest, totalCount: number): Pagination {
  const totalPages = Math.ceil(totalCount / p.per_page);
  return {
    current_page: p.page,
    total_pages: totalPages,
    total_count: totalCount,
    next_page: p.page < totalPages ? p.page + 1 : null,
    prev_page: p.page > 1 ? p.page - 1 : null,
  };
}
