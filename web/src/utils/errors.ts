import { i18n, tOr } from '@/i18n'
import { ApiError } from '@/api/client'

/** The user's-language text for an error from the API. */
export function errorText(error: unknown): string {
  const t = i18n.global.t
  if (error instanceof ApiError) {
    if (error.code === 'validation_failed') {
      const parts = Object.entries(error.fields).map(
        ([field, code]) => t('common.labelValue', { label: fieldLabel(field), value: fieldErrorText(code, ruleOf(error, field)) }),
      )
      return parts.length ? parts.join(t('common.clauseSep')) : t('errors.validation_failed')
    }
    return tOr(`errors.${error.code}`, t('errors.unknown', { code: error.code }))
  }
  return t('errors.unknown', { code: String(error) })
}

/** The numbers of the rule a field broke, when the server named them (`min_length`…). */
function ruleOf(error: ApiError, field: string): Record<string, unknown> | undefined {
  const rules = (error.body as { rules?: Record<string, Record<string, unknown>> }).rules
  return rules?.[field]
}

/** A field's error; with the rule's numbers, the message says which rule ("at least 10
 * characters using 3 of 4 kinds"), else what went wrong ("too short"). */
export function fieldErrorText(code: string, rule?: Record<string, unknown>): string {
  if (rule && (i18n.global.te(`ruleErrors.${code}`) || i18n.global.te(`ruleErrors.${code}`, 'zh-CN'))) {
    return i18n.global.t(`ruleErrors.${code}`, rule)
  }
  return tOr(`fieldErrors.${code}`, tOr(`errors.${code}`, code))
}

/** Field → translated message, for `el-form-item :error`. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {}
  return Object.fromEntries(Object.entries(error.fields).map(([field, code]) => [field, fieldErrorText(code, ruleOf(error, field))]))
}

/**
 * The name of a field the server reported, also for paths into lists and maps
 * (`people.2.user_id`, `staffing.city.min_staff`): each part named, positions counted from 1.
 */
export function fieldLabel(path: string): string {
  if (i18n.global.te(`fields.${path}`) || i18n.global.te(`fields.${path}`, 'zh-CN')) return tOr(`fields.${path}`, path)
  // A position in a list may come as `substances[0].quantity_t` or `people.0.user_id`.
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .map((part) => (/^\d+$/.test(part) ? `#${Number(part) + 1}` : tOr(`fields.${part}`, tOr(`levels.${part}`, tOr(`duty.slotKinds.${part}`, part)))))
    .join(' ')
}
