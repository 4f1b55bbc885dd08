import { registerCard } from '@/workbench/registry'

registerCard('danger.overdue', { route: '/hazards?show=overdue', order: 25 })
registerCard('danger.listed', { route: '/hazards?show=listed', order: 26 })
registerCard('danger.to_handle', { route: '/hazards?show=open', order: 27 })
