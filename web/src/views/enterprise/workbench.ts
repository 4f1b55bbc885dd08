import { registerCard, registerTag } from '@/workbench/registry'

registerCard('enterprise.licences', { route: '/enterprises/licences?state=expired', order: 21 })
registerCard('enterprise.sources_unfiled', { route: '/enterprises/hazard-sources?unfiled=1', order: 22 })
registerCard('enterprise.reviews_overdue', { route: '/enterprises/risk-points?review_overdue=1', order: 23 })

registerTag('licence', (kind, t) => t(`enterprise.licenceKinds.${kind}`))
registerTag('hazard_grade', (grade, t) => t(`enterprise.hazard.grades.${grade}`))
registerTag('colour', (colour, t) => t(`enterprise.colours.${colour}`))
