import { registerCard } from '@/workbench/registry'

registerCard('audit.chain', { route: '/audit', order: 42 })
