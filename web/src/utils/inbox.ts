// The unread count of the signed-in person's inbox, shared by the bell and the notifications page.
import { reactive } from 'vue'

export const inbox = reactive({ unread: 0 })

/** Kinds of notification, by family, for the filters (the server's kinds, dotted). */
export const NOTIFICATION_KINDS: Record<'duty' | 'incident' | 'enterprise' | 'danger' | 'tipoff', string[]> = {
  duty: [
    'duty.roster_published', 'duty.shift_reminder', 'duty.check_in_missed', 'duty.swap_requested',
    'duty.swap_awaiting_approval', 'duty.swap_decided', 'duty.assignment_changed', 'duty.handover_written',
  ],
  incident: [
    'incident.hop_reminder', 'incident.hop_overdue', 'incident.report_submitted', 'incident.report_returned',
    'incident.report_received', 'incident.follow_up_required',
  ],
  enterprise: ['enterprise.licence_expiring', 'enterprise.licence_expired'],
  danger: ['danger.deadline_near', 'danger.overdue'],
  tipoff: ['tipoff.received', 'tipoff.deadline_near', 'tipoff.overdue', 'tipoff.reward_proposed'],
}
