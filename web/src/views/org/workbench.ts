import { registerCard } from '@/workbench/registry'

registerCard('admin.locked_accounts', { route: '/security', order: 40 })
registerCard('admin.tokens_expiring', { route: '/tokens', order: 41 })
