// Attachments: the upload's address, sizes as people read them, and the upload itself (the raw
// file as the request body, so the server streams it to disk; XHR because fetch reports no
// upload progress).
import { ApiError, type Schemas } from '@/api/client'

export type Attachment = Schemas['Attachment']
export type Purpose = 'scan' | 'photo' | 'document'

/** The largest file of each purpose, in bytes (the server checks again, by content). */
export const PURPOSE_LIMITS: Record<Purpose, number> = { scan: 20 * 1024 * 1024, photo: 10 * 1024 * 1024, document: 50 * 1024 * 1024 }

/** What the file picker offers for a purpose (a hint only: the server judges the content). */
export const PURPOSE_ACCEPT: Record<Purpose, string> = {
  scan: '.pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png',
  photo: '.jpg,.jpeg,.png,.webp,image/jpeg,image/png,image/webp',
  document: '.pdf,.jpg,.jpeg,.png,.webp,.docx,.xlsx',
}

export function uploadUrl(ownerKind: string, ownerId: string, purpose: Purpose, fileName: string): string {
  const query = new URLSearchParams({ owner_kind: ownerKind, owner_id: ownerId, purpose, name: fileName })
  return `/api/v1/attachments?${query.toString()}`
}

export function contentUrl(a: Pick<Attachment, 'id'>): string {
  return `/api/v1/attachments/${encodeURIComponent(a.id)}/content`
}

export function thumbnailUrl(a: Pick<Attachment, 'id'>): string {
  return `/api/v1/attachments/${encodeURIComponent(a.id)}/thumbnail`
}

/** 1023 B, 1.5 KB, 12.3 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`
}

/** Whole percent of an upload sent. */
export function percent(loaded: number, total: number): number {
  if (total <= 0) return 0
  return Math.min(100, Math.floor((loaded * 100) / total))
}

/** Sends the file as the request body; resolves with the new attachment or rejects with an
 * ApiError carrying the server's code (`file_too_large`, `file_type_not_allowed`…). */
export function uploadFile(url: string, file: Blob, onProgress: (percent: number) => void): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', url)
    xhr.withCredentials = true
    xhr.setRequestHeader('Content-Type', 'application/octet-stream')
    xhr.upload.onprogress = (event) => onProgress(percent(event.loaded, event.total))
    xhr.onload = () => {
      let body: unknown
      try {
        body = JSON.parse(xhr.responseText)
      } catch {
        body = undefined
      }
      if (xhr.status === 201) resolve(body as Attachment)
      else reject(new ApiError(xhr.status, body as Schemas['ErrorBody'] | undefined))
    }
    xhr.onerror = () => reject(new ApiError(0, undefined))
    xhr.send(file)
  })
}
