// Wording of notifications and live events in the reader's language. The server sends a kind
// and its data (crates/store/src/duty/*.rs builds them); the text is made here.
import type { LiveEvent } from '@/api/events'
import { codeKey, i18n, tOr } from '@/i18n'
import { formatTime } from './format'

export interface NotificationLike {
  kind: string
  data?: Record<string, unknown> | null
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value)
}

/** The parameters a notification's message uses: its data, times in Beijing time, a status named. */
export function notificationParams(data: Record<string, unknown>): Record<string, unknown> {
  const t = i18n.global.t
  return {
    ...data,
    unit_name: str(data.unit_name),
    start: formatTime(str(data.starts_at)),
    end: formatTime(str(data.ends_at)),
    status: data.status ? tOr(`duty.swapOutcome.${str(data.status)}`, str(data.status)) : '',
    shifts: str(data.shifts),
    missing: str(data.missing),
    kindLabel: data.cover === false ? t('duty.swaps.swap') : t('duty.swaps.cover'),
    hopName: data.hop ? tOr(`incident.hops.${str(data.hop)}`, str(data.hop)) : '',
    due: formatTime(str(data.due_at)),
    reportName: data.report_kind ? reportName(str(data.report_kind), Number(data.sequence ?? 0)) : '',
    reason: str(data.reason),
    doc_number: str(data.doc_number),
    licenceName: data.licence_kind ? tOr(`enterprise.licenceKinds.${str(data.licence_kind)}`, str(data.licence_kind)) : '',
  }
}

/** The name of a report (initial, follow-up n, final) in the reader's language. */
export function reportName(kind: string, sequence: number): string {
  return tOr(`incident.report.kinds.${kind}`, kind, { n: sequence })
}

/** The message key of a notification: some kinds read differently by a flag in their data. */
export function notificationKey(n: NotificationLike): string {
  const data = n.data ?? {}
  if (n.kind === 'duty.swap_requested') return data.cover === false ? 'notifyKinds.duty_swap_requested_swap' : 'notifyKinds.duty_swap_requested'
  if (n.kind === 'duty.assignment_changed') return data.on_shift === false ? 'notifyKinds.duty_assignment_changed_off' : 'notifyKinds.duty_assignment_changed'
  return codeKey('notifyKinds', n.kind)
}

export function notificationText(n: NotificationLike): string {
  const fallback = i18n.global.t('notifyKinds.unknown', { kind: n.kind })
  return tOr(notificationKey(n), fallback, notificationParams(n.data ?? {}))
}

/** A live event in words; a `notification` event is worded as the notification it carries. */
export function eventText(event: LiveEvent): string {
  if (event.kind === 'notification' && event.data && typeof event.data.kind === 'string') {
    return notificationText(event.data as unknown as NotificationLike)
  }
  return tOr(codeKey('events', event.kind), i18n.global.t('events.unknown', { kind: event.kind }), event.data ?? {})
}
