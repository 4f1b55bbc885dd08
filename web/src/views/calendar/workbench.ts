import { registerCard } from '@/workbench/registry'

registerCard('calendar.years', { route: '/calendar', order: 42 })
