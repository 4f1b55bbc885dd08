import { registerCard } from '@/workbench/registry'

registerCard('duty.on_duty', { route: '/duty', order: 10 })
registerCard('duty.my_shifts', { route: '/duty/roster', order: 20 })
registerCard('duty.swaps_to_approve', { route: '/duty/swaps', order: 30 })
