// Who did something, as a person reads it. Records keep people by their display name; the
// server's own work and integrations are kept as `system:<what>` and `token:<name>`; a citizen
// on the public tip-off page as `public:reporter`.
import { i18n, tOr } from '@/i18n'

export function actorName(name: string | null | undefined): string {
  if (!name) return ''
  const t = i18n.global.t
  if (name.startsWith('system:')) {
    const what = name.slice('system:'.length)
    return t('actors.system', { what: tOr(`actors.systemWork.${what.replace(/-/g, '_')}`, t('actors.systemWork.operator')) })
  }
  if (name.startsWith('public:')) return t('actors.public')
  if (name.startsWith('token:')) return t('actors.token', { name: name.slice('token:'.length) })
  return name
}

/** A person with their unit, in the UI language's brackets. */
export function actorWithUnit(name: string | null | undefined, unit: string | null | undefined): string {
  const person = actorName(name)
  return unit && !name?.startsWith('system:') ? i18n.global.t('actors.withUnit', { name: person, unit }) : person
}
