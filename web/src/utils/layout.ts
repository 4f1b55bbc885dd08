// Form layouts that hold in both languages: Chinese labels are short and sit beside their
// fields; English ones run two or three times longer and would wrap under the field, so they
// sit above it.
import { computed } from 'vue'
import { i18n } from '@/i18n'

export function formLabels(zhWidth: number) {
  return computed(() =>
    i18n.global.locale.value === 'en'
      ? { labelPosition: 'top' as const }
      : { labelPosition: 'right' as const, labelWidth: `${zhWidth}px` },
  )
}
