// Live events from /api/v1/events (Server-Sent Events). The browser's EventSource reconnects by
// itself and sends Last-Event-ID, so the server replays what was missed.
import { reactive } from 'vue'

export interface LiveEvent {
  seq?: number
  kind: string
  at?: string
  data?: Record<string, unknown>
}

export const live = reactive<{ events: LiveEvent[]; connected: boolean; unread: number }>({
  events: [],
  connected: false,
  unread: 0,
})

const KEEP = 50
let source: EventSource | null = null
type Handler = (event: LiveEvent) => void
const handlers: Handler[] = []

export function onLiveEvent(handler: Handler): () => void {
  handlers.push(handler)
  return () => {
    const i = handlers.indexOf(handler)
    if (i >= 0) handlers.splice(i, 1)
  }
}

/** Adds events to the feed once each (by `seq`), newest first, keeping the last KEEP. */
function remember(events: LiveEvent[]) {
  const seen = new Set(live.events.map((e) => e.seq).filter((seq) => seq !== undefined))
  const fresh = events.filter((e) => e.kind !== 'notification' && (e.seq === undefined || !seen.has(e.seq)))
  if (fresh.length === 0) return
  live.events.unshift(...fresh)
  live.events.sort((a, b) => (b.seq ?? Number.MAX_SAFE_INTEGER) - (a.seq ?? Number.MAX_SAFE_INTEGER))
  live.events.splice(KEEP)
}

/** What happened in scope before the page opened (the server's recent events). */
async function loadRecent() {
  try {
    const response = await fetch('/api/v1/events/recent', { credentials: 'same-origin' })
    if (!response.ok) return
    remember((await response.json()) as LiveEvent[])
  } catch {
    // The feed fills with what happens from now on.
  }
}

export function connectEvents(onSessionEnded: () => void) {
  disconnectEvents()
  void loadRecent()
  source = new EventSource('/api/v1/events')
  source.onopen = () => {
    live.connected = true
  }
  source.onerror = () => {
    live.connected = false
  }
  source.onmessage = (message) => {
    let event: LiveEvent
    try {
      event = JSON.parse(message.data) as LiveEvent
    } catch {
      return
    }
    if (event.kind === 'session_ended') {
      disconnectEvents()
      onSessionEnded()
      return
    }
    // Notifications go to the persistent inbox (NotificationBell), not the live list.
    if (event.kind !== 'notification' && !live.events.some((e) => e.seq !== undefined && e.seq === event.seq)) {
      remember([event])
      live.unread += 1
    }
    handlers.forEach((handler) => handler(event))
  }
}

export function disconnectEvents() {
  source?.close()
  source = null
  live.connected = false
}
