// Excel imports (docs/imports.md): the workbook goes up as the request body, the dry run and the
// commit run on the server, and the page follows the import's status.
import { ApiError, type ErrorBody, type Schemas } from './client'

export type Import = Schemas['Import']
export type ImportProblem = Schemas['ImportProblem']
export type ImportKind = 'enterprises' | 'licences' | 'risk_points' | 'hidden_dangers'
/** What the register's import page offers; the hidden-danger ledger has its own. */
export const REGISTER_IMPORT_KINDS: ImportKind[] = ['enterprises', 'licences', 'risk_points']

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** Uploads a workbook; the server starts its dry run and answers with the import. */
export async function uploadImport(kind: ImportKind, file: Blob, name: string): Promise<Import> {
  const params = new URLSearchParams({ kind, name })
  let response: Response
  try {
    response = await globalThis.fetch(`/api/v1/imports?${params.toString()}`, {
      method: 'POST', body: file, credentials: 'same-origin', headers: { 'Content-Type': XLSX },
    })
  } catch {
    throw new ApiError(0, undefined)
  }
  const body = (await response.json().catch(() => undefined)) as unknown
  if (!response.ok) throw new ApiError(response.status, body as Partial<ErrorBody> | undefined)
  return body as Import
}

/** Whether the import is still running on the server. */
export function running(item: Pick<Import, 'status'>): boolean {
  return item.status === 'checking' || item.status === 'committing'
}

/** The rows a commit would write. */
export function writable(item: Pick<Import, 'rows_created' | 'rows_updated'>): number {
  return item.rows_created + item.rows_updated
}

/** A problem's column as the user finds it: the letter and the header the file has. */
export function problemColumn(problem: Pick<ImportProblem, 'cell' | 'column'>): string {
  const header = problem.column ?? ''
  if (problem.cell && header) return `${problem.cell} · ${header}`
  return problem.cell ?? header
}
