import { beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '@/api/client'
import { i18n, setLocale } from '@/i18n'
import { errorText, fieldErrors } from '@/utils/errors'

describe('API errors in the user’s language', () => {
  beforeEach(() => setLocale('zh-CN'))

  it('translates codes', () => {
    expect(errorText(new ApiError(423, { code: 'account_locked', message: 'x' }))).toBe('账号已被锁定')
    setLocale('en')
    expect(errorText(new ApiError(423, { code: 'account_locked', message: 'x' }))).toBe('The account is locked')
  })

  it('names the fields of a validation failure', () => {
    const error = new ApiError(422, { code: 'validation_failed', message: 'x', fields: { username: 'already_exists', password: 'password_too_short' } })
    expect(errorText(error)).toBe('用户名：已存在；密码：密码太短')
    expect(fieldErrors(error)).toEqual({ username: '已存在', password: '密码太短' })
  })

  it('falls back for codes it does not know and for network failures', () => {
    expect(errorText(new ApiError(409, { code: 'brand_new_code', message: 'x' }))).toBe('操作失败（brand_new_code）')
    expect(new ApiError(0, undefined).code).toBe('network')
    expect(errorText(new ApiError(0, undefined))).toBe('网络连接失败，请检查网络')
    expect(i18n.global.locale.value).toBe('zh-CN')
  })
})

describe('rules in messages', () => {
  it('say which rule a password broke when the server names it', async () => {
    const { ApiError } = await import('@/api/client')
    const { fieldErrors } = await import('@/utils/errors')
    const { setLocale } = await import('@/i18n')
    setLocale('zh-CN')
    const error = new ApiError(422, {
      code: 'validation_failed', message: '', fields: { password: 'password_too_short' },
      rules: { password: { min_length: 10, min_classes: 3, max_length: 128 } },
    } as never)
    expect(fieldErrors(error).password).toBe('至少 10 个字符，并含大写字母、小写字母、数字、其他字符中的至少 3 类')
    const bare = new ApiError(422, { code: 'validation_failed', message: '', fields: { password: 'password_too_short' } } as never)
    expect(fieldErrors(bare).password).toBe('密码太短')
  })
})
