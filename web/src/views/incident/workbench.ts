import { registerCard, registerTag } from '@/workbench/registry'

registerCard('incident.clocks', { route: '/incidents/console', order: 1 })
registerCard('incident.to_acknowledge', { route: '/incidents/console', order: 2 })
registerCard('incident.reports_to_approve', { route: '/incidents', order: 3 })
registerCard('incident.open', { route: '/incidents', order: 11 })
registerCard('incident.today', { route: '/incidents', order: 12 })

registerTag('grade', (grade, t) => t(`incident.grades.${grade}`))
registerTag('hop', (hop, t) => t(`incident.hops.${hop}`))
registerTag('report', (kind, t) => t(`workbench.reportKinds.${kind}`))
