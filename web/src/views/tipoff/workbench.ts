import { registerCard } from '@/workbench/registry'

registerCard('tipoff.to_verify', { route: '/tipoffs?show=received', order: 28 })
registerCard('tipoff.to_answer', { route: '/tipoffs?show=unanswered', order: 29 })
registerCard('tipoff.rewards', { route: '/tipoffs?show=rewards', order: 30 })
