// Look-ups the incident pages share: the taxonomy (loaded once), and a debounced reload on
// incident events and incident notifications.
import { api, call, type Schemas } from './client'
import { onLiveEvent, type LiveEvent } from './events'

export type Taxonomy = Schemas['Taxonomy']

let taxonomy: Promise<Taxonomy> | null = null

export function loadTaxonomy(): Promise<Taxonomy> {
  if (!taxonomy) {
    taxonomy = call(api.GET('/api/v1/incidents/taxonomy')).catch((error: unknown) => {
      taxonomy = null
      throw error
    })
  }
  return taxonomy
}

/** The kind of an incident event, or of the notification it carries; '' for other events. */
export function incidentKind(event: LiveEvent): string {
  const kind = event.kind === 'notification' ? String(event.data?.kind ?? '') : event.kind
  return kind.startsWith('incident.') ? kind : ''
}

/** Runs `handler` for every incident event, and `reload` (debounced) after them. */
export function onIncidentEvent(reload: () => void, handler?: (kind: string, event: LiveEvent) => void, wait = 300): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined
  const stop = onLiveEvent((event) => {
    const kind = incidentKind(event)
    if (!kind) return
    handler?.(kind, event)
    clearTimeout(timer)
    timer = setTimeout(reload, wait)
  })
  return () => {
    clearTimeout(timer)
    stop()
  }
}
