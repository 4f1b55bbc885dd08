// Look-ups the duty pages share. The duty API names units by code while shifts and swaps carry
// unit ids: the directory (readable by anyone signed in) maps one to the other.
import { api, call, type DirectoryEntry, type Unit } from './client'
import { onLiveEvent } from './events'

let directory: Promise<DirectoryEntry[]> | null = null

/** Every unit's code, name and duty phone, loaded once per page load. */
export function loadDirectory(force = false): Promise<DirectoryEntry[]> {
  if (!directory || force) {
    directory = call(api.GET('/api/v1/duty/directory')).catch((error: unknown) => {
      directory = null
      throw error
    })
  }
  return directory
}

export async function unitById(): Promise<Map<string, DirectoryEntry>> {
  const entries = await loadDirectory().catch(() => [] as DirectoryEntry[])
  return new Map(entries.map((e) => [e.unit_id, e]))
}

/** The units in the caller's scope (for unit pickers, which work with ids). */
export function loadUnits(): Promise<Unit[]> {
  return call(api.GET('/api/v1/units')).catch(() => [] as Unit[])
}

/** Runs `reload` (debounced) whenever a duty event or a duty notification arrives. */
export function onDutyEvent(reload: () => void, wait = 300): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const stop = onLiveEvent((event) => {
    const kind = event.kind === 'notification' ? String(event.data?.kind ?? '') : event.kind
    if (!kind.startsWith('duty.')) return
    clearTimeout(timer)
    timer = setTimeout(reload, wait)
  })
  return () => {
    clearTimeout(timer)
    stop()
  }
}

