import { api, call, type Schemas } from './client'

let cached: Promise<Schemas['PublicConfig']> | null = null

/** The server's public configuration (tile server, version), fetched once. */
export function publicConfig(): Promise<Schemas['PublicConfig']> {
  cached ??= call(api.GET('/api/v1/config')).catch((error: unknown) => {
    cached = null
    throw error
  })
  return cached
}
