import { reactive } from 'vue'
import { api, call, type Me } from '@/api/client'

export type Permission =
  | 'manage_org' | 'manage_security' | 'read_audit' | 'view_accounts' | 'manage_calendar'
  | 'read_duty' | 'manage_duty' | 'read_duty_log' | 'write_duty_log'
  | 'read_incidents' | 'report_incident' | 'handle_incidents' | 'lead_incidents'
  | 'read_enterprises' | 'manage_enterprises' | 'own_enterprise'
  | 'handle_tipoffs' | 'approve_rewards'

/** The signed-in user, shared by the whole UI. */
export const session = reactive<{ me: Me | null; checked: boolean }>({ me: null, checked: false })

export async function loadMe(): Promise<Me | null> {
  try {
    session.me = await call(api.GET('/api/v1/me'))
  } catch {
    session.me = null
  }
  session.checked = true
  return session.me
}

export function can(permission: Permission | Permission[]): boolean {
  const wanted = Array.isArray(permission) ? permission : [permission]
  return wanted.some((p) => session.me?.permissions.includes(p) ?? false)
}

export async function signOut() {
  try {
    await call(api.POST('/api/v1/auth/logout'))
  } finally {
    session.me = null
  }
}
