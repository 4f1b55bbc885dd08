import { describe, expect, it } from 'vitest'
import type { Unit } from '@/api/client'
import { buildTree, subtreeIds, treeWithCurrent } from '@/utils/tree'

function unit(id: string, parent: string | null): Unit {
  return {
    id, parent_id: parent, code: id, name: id, level: 'district', sort_order: 0, has_boundary: false,
    created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
  }
}

describe('unit tree', () => {
  const units = [unit('city', null), unit('east', 'city'), unit('west', 'city'), unit('town', 'east')]

  it('nests children under parents in order', () => {
    const tree = buildTree(units)
    expect(tree.map((n) => n.id)).toEqual(['city'])
    expect(tree[0]?.children.map((n) => n.id)).toEqual(['east', 'west'])
    expect(tree[0]?.children[0]?.children.map((n) => n.id)).toEqual(['town'])
  })

  it('makes the top of a scope a root even though it has a parent', () => {
    const scoped = [unit('east', 'city'), unit('town', 'east')]
    expect(buildTree(scoped).map((n) => n.id)).toEqual(['east'])
  })

  it('keeps a record\'s unit outside the list by its name, once', () => {
    const scoped = [unit('east', 'city'), unit('town', 'east')]
    const outside = treeWithCurrent(scoped, { id: 'far', name: '远方街道' })
    expect(outside.map((n) => [n.id, n.name])).toEqual([['far', '远方街道'], ['east', 'east']])
    expect(treeWithCurrent(scoped, { id: 'town', name: 'town' }).map((n) => n.id)).toEqual(['east'])
    expect(treeWithCurrent(scoped, null).map((n) => n.id)).toEqual(['east'])
  })

  it('finds a subtree', () => {
    expect([...subtreeIds(units, 'east')].sort()).toEqual(['east', 'town'])
    expect(subtreeIds(units, 'city').size).toBe(4)
  })
})
