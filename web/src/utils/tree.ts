import type { Unit } from '@/api/client'

export interface UnitNode extends Unit {
  children: UnitNode[]
}

/**
 * Builds the unit tree from the flat list the API returns. Units whose parent is outside the
 * list (the top of the caller's scope) become roots. Siblings keep the server's order (sort
 * order, then code).
 */
export function buildTree(units: Unit[]): UnitNode[] {
  const nodes = new Map<string, UnitNode>()
  for (const unit of units) nodes.set(unit.id, { ...unit, children: [] })
  const roots: UnitNode[] = []
  for (const unit of units) {
    const node = nodes.get(unit.id)
    if (!node) continue
    const parent = unit.parent_id ? nodes.get(unit.parent_id) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  return roots
}

/** A choice of a unit picker: a unit of the tree, or one outside it shown by its name. */
export interface UnitOption {
  id: string
  name: string
  children: UnitOption[]
}

/**
 * The tree of `units`, with `current` first as a root of its own when it is not among them: a
 * record's unit that the caller cannot choose (outside its scope: a supervising department's
 * regulator edits an enterprise of a township, or the enterprise edits itself) still reads by
 * its name, not its id.
 */
export function treeWithCurrent(units: Unit[], current?: { id: string; name: string } | null): UnitOption[] {
  const roots: UnitOption[] = buildTree(units)
  if (!current || units.some((u) => u.id === current.id)) return roots
  return [{ id: current.id, name: current.name, children: [] }, ...roots]
}

/** Ids of a unit and everything beneath it. */
export function subtreeIds(units: Unit[], rootId: string): Set<string> {
  const ids = new Set([rootId])
  let grew = true
  while (grew) {
    grew = false
    for (const unit of units) {
      if (unit.parent_id && ids.has(unit.parent_id) && !ids.has(unit.id)) {
        ids.add(unit.id)
        grew = true
      }
    }
  }
  return ids
}
