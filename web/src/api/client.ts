// The typed API client. Types come from schema.d.ts, generated from the server's OpenAPI
// snapshot (`npm run gen:api`); `cargo verify` fails when it is stale.
import createClient, { type Middleware } from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']
export type Me = Schemas['Me']
export type Unit = Schemas['Unit']
export type UnitRef = Schemas['UnitRef']
export type User = Schemas['User']
export type Role = Schemas['Role']
export type UnitLevel = Schemas['UnitLevel']
export type ErrorBody = Schemas['ErrorBody']
export type ApiToken = Schemas['ApiToken']
export type SecurityPolicy = Schemas['SecurityPolicy']
export type AccountLock = Schemas['AccountLock']
export type AuditEntry = Schemas['AuditEntry']
export type Shift = Schemas['Shift']
export type ShiftPerson = Schemas['ShiftPerson']
export type SlotKind = Schemas['SlotKind']
export type OnDuty = Schemas['OnDuty']
export type Gap = Schemas['Gap']
export type GapKind = Schemas['GapKind']
export type Swap = Schemas['Swap']
export type Handover = Schemas['Handover']
export type HandoverItem = Schemas['HandoverItem']
export type HandoverView = Schemas['HandoverView']
export type DutyLogEntry = Schemas['DutyLogEntry']
export type DutyLogWrite = Schemas['DutyLogWrite']
export type DutySettings = Schemas['DutySettings']
export type DutyRules = Schemas['DutyRules']
export type DutyPeriod = Schemas['DutyPeriod']
export type DutyLeave = Schemas['DutyLeave']
export type DutyPerson = Schemas['DutyPerson']
export type DutyFeed = Schemas['DutyFeed']
export type DirectoryEntry = Schemas['DirectoryEntry']
export type TimelineEntry = Schemas['TimelineEntry']
export type CalendarYear = Schemas['CalendarYear']
export type Notification = Schemas['Notification']

export const ROLES: Role[] = [
  'duty_officer', 'duty_leader', 'leader', 'inspector', 'petition_officer', 'staff', 'enterprise',
  'viewer', 'system_admin', 'security_admin', 'audit_admin',
]
export const ADMIN_ROLES: Role[] = ['system_admin', 'security_admin', 'audit_admin']
export const BUSINESS_ROLES: Role[] = ROLES.filter((r) => !ADMIN_ROLES.includes(r))
/** The roles an API token may carry, as the server's beacon_core::org::Role::TOKEN_ROLES. */
export const TOKEN_ROLES: Role[] = ['enterprise', 'viewer']
export const LEVELS: UnitLevel[] = ['province', 'city', 'district', 'township', 'community', 'department']
export const SLOT_KINDS: SlotKind[] = ['leader', 'shift_lead', 'officer', 'post']
/** As the server's beacon_store::duty::LOG_CHANNELS and LOG_CATEGORIES. */
export const LOG_CHANNELS = ['phone', 'fax', 'sms', 'radio', 'system', 'visit', 'other'] as const
export const LOG_CATEGORIES = [
  'accident', 'natural_disaster', 'fire', 'public_health', 'public_security', 'rescue_request',
  'instruction', 'inquiry', 'other',
] as const
export const HANDOVER_KINDS = ['incident', 'follow_up', 'instruction', 'other'] as const
export const GAP_KINDS: GapKind[] = ['uncovered', 'no_leader', 'understaffed', 'overlap', 'on_leave', 'too_many_consecutive']

/** A refused or failed request, with the server's stable error code. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string>
  readonly body: Partial<ErrorBody>

  constructor(status: number, body: Partial<ErrorBody> | undefined) {
    const code = body?.code ?? (status === 0 ? 'network' : 'unknown')
    super(body?.message ?? code)
    this.status = status
    this.code = code
    this.fields = (body?.fields as Record<string, string> | undefined) ?? {}
    this.body = body ?? {}
  }
}

type Listener = (error: ApiError) => void
const sessionListeners: Listener[] = []

/** Called when a request finds the session ended or a password change pending. */
export function onSessionProblem(listener: Listener) {
  sessionListeners.push(listener)
}

const sessionGuard: Middleware = {
  async onResponse({ request, response }) {
    if (response.status !== 401 && response.status !== 403) return undefined
    // Sign-in answers for itself; /me is how the UI finds out whether anyone is signed in.
    const path = new URL(request.url, 'http://x').pathname
    if (path === '/api/v1/auth/login' || path === '/api/v1/me') return undefined
    const body = (await response.clone().json().catch(() => undefined)) as Partial<ErrorBody> | undefined
    const code = body?.code
    if (code === 'unauthenticated' || code === 'session_expired' || code === 'password_change_required') {
      const error = new ApiError(response.status, body)
      sessionListeners.forEach((listener) => listener(error))
    }
    return undefined
  },
}

// fetch is looked up at call time (not captured once), so tests can stand in for the server.
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin', fetch: (request) => globalThis.fetch(request) })
api.use(sessionGuard)

/** Unwraps an openapi-fetch result: the data, or an ApiError. */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response }
  try {
    result = await request
  } catch {
    throw new ApiError(0, undefined)
  }
  if (!result.response.ok) {
    throw new ApiError(result.response.status, result.error as Partial<ErrorBody> | undefined)
  }
  return result.data as T
}
