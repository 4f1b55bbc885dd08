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
