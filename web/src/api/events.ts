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

export function connectEvents(onSessionEnded: () => void) {
  disconnectEvents()
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
    if (event.kind !== 'notification') {
      live.events.unshift(event)
      live.events.splice(KEEP)
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
