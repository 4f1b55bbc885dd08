// Every module's workbench cards. A module adds one line here.
import '@/views/duty/workbench'
import '@/views/incident/workbench'
import '@/views/enterprise/workbench'
import '@/views/danger/workbench'
import '@/views/tipoff/workbench'
import '@/views/org/workbench'
import '@/views/calendar/workbench'
import '@/views/audit/workbench'

export { cardDef, registeredCards, tagText } from './registry'
