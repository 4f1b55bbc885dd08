// The workbench's card registry. Each module registers its cards (by the key the server sends:
// `duty.on_duty`, `incident.clocks`…) and how its item tags read; the home page draws whatever
// the server answers with what is registered here, and a module adds its cards without touching
// the others (see ./index.ts).

export interface CardDef {
  /** The list behind the card ("view all"). */
  route: string
  /** Order on the page: lower first. */
  order: number
}

const cards = new Map<string, CardDef>()
const tags = new Map<string, (value: string, t: (key: string) => string) => string>()

export function registerCard(key: string, def: CardDef): void {
  cards.set(key, def)
}

export function cardDef(key: string): CardDef | undefined {
  return cards.get(key)
}

/** Tags of the form `prefix:value` (`grade:serious`) read through the module's own names. */
export function registerTag(prefix: string, text: (value: string, t: (key: string) => string) => string): void {
  tags.set(prefix, text)
}

/** What a tag reads as: `prefix:value` through its registered reader, a plain tag through
 * `workbench.tags`. */
export function tagText(tag: string, t: (key: string) => string): string {
  const at = tag.indexOf(':')
  if (at > 0) {
    const reader = tags.get(tag.slice(0, at))
    if (reader) return reader(tag.slice(at + 1), t)
  }
  return t(`workbench.tags.${tag}`)
}

export function registeredCards(): string[] {
  return [...cards.keys()]
}
