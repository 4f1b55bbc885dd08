import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { onSessionProblem } from './api/client'
import { can, loadMe, session, type Permission } from './session'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    /** Any of these. */
    permission?: Permission | Permission[]
    title?: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/org/LoginView.vue'), meta: { public: true } },
  { path: '/report', name: 'public-tipoff', component: () => import('./views/public/PublicTipoffView.vue'), meta: { public: true, title: 'publicTipoff.title' } },
  { path: '/report/status', name: 'public-tipoff-status', component: () => import('./views/public/PublicTipoffStatusView.vue'), meta: { public: true, title: 'publicTipoff.statusTitle' } },
  { path: '/password', name: 'password', component: () => import('./views/org/PasswordView.vue') },
  {
    path: '/',
    component: () => import('./components/AppShell.vue'),
    children: [
      { path: '', name: 'home', component: () => import('./views/home/HomeView.vue'), meta: { title: 'nav.home' } },
      {
        path: 'notifications', name: 'notifications', component: () => import('./views/notify/NotificationsView.vue'),
        meta: { title: 'nav.notifications' },
      },
      { path: 'units', name: 'units', component: () => import('./views/org/UnitsView.vue'), meta: { title: 'nav.units' } },
      {
        path: 'users', name: 'users', component: () => import('./views/org/UsersView.vue'),
        meta: { title: 'nav.users', permission: 'view_accounts' },
      },
      {
        path: 'tokens', name: 'tokens', component: () => import('./views/org/TokensView.vue'),
        meta: { title: 'nav.tokens', permission: 'manage_org' },
      },
      {
        path: 'security', name: 'security', component: () => import('./views/org/SecurityView.vue'),
        meta: { title: 'nav.security', permission: 'manage_security' },
      },
      {
        path: 'audit', name: 'audit', component: () => import('./views/audit/AuditView.vue'),
        meta: { title: 'nav.audit', permission: 'read_audit' },
      },
      {
        path: 'duty', name: 'duty', component: () => import('./views/duty/DutyTodayView.vue'),
        meta: { title: 'nav.dutyToday', permission: 'read_duty' },
      },
      {
        path: 'duty/roster', name: 'duty-roster', component: () => import('./views/duty/RosterView.vue'),
        meta: { title: 'nav.dutyRoster', permission: 'read_duty' },
      },
      {
        path: 'duty/swaps', name: 'duty-swaps', component: () => import('./views/duty/SwapsView.vue'),
        meta: { title: 'nav.dutySwaps', permission: 'read_duty' },
      },
      {
        path: 'duty/log', name: 'duty-log', component: () => import('./views/duty/DutyLogView.vue'),
        meta: { title: 'nav.dutyLog', permission: 'read_duty_log' },
      },
      {
        path: 'duty/settings', name: 'duty-settings', component: () => import('./views/duty/DutySettingsView.vue'),
        meta: { title: 'nav.dutySettings', permission: 'manage_duty' },
      },
      {
        path: 'duty/directory', name: 'duty-directory', component: () => import('./views/duty/DirectoryView.vue'),
        meta: { title: 'nav.dutyDirectory' },
      },
      {
        path: 'duty/feeds', name: 'duty-feeds', component: () => import('./views/duty/FeedsView.vue'),
        meta: { title: 'nav.dutyFeeds', permission: 'read_duty' },
      },
      {
        path: 'incidents/console', name: 'incident-console', component: () => import('./views/incident/IncidentConsoleView.vue'),
        meta: { title: 'nav.incidentConsole', permission: 'read_incidents' },
      },
      {
        path: 'incidents', name: 'incidents', component: () => import('./views/incident/IncidentsView.vue'),
        meta: { title: 'nav.incidents', permission: 'read_incidents' },
      },
      {
        path: 'incidents/stats', name: 'incident-stats', component: () => import('./views/incident/IncidentStatsView.vue'),
        meta: { title: 'nav.incidentStats', permission: 'read_incidents' },
      },
      {
        path: 'incidents/:id', name: 'incident', component: () => import('./views/incident/IncidentDetailView.vue'),
        meta: { title: 'nav.incidents', permission: 'read_incidents' },
      },
      {
        path: 'enterprises', name: 'enterprises', component: () => import('./views/enterprise/EnterprisesView.vue'),
        meta: { title: 'nav.enterprises', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'enterprises/licences', name: 'licences', component: () => import('./views/enterprise/LicencesView.vue'),
        meta: { title: 'nav.licences', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'enterprises/risk-points', name: 'risk-points', component: () => import('./views/enterprise/RiskPointsView.vue'),
        meta: { title: 'nav.riskPoints', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'enterprises/hazard-sources', name: 'hazard-sources', component: () => import('./views/enterprise/HazardSourcesView.vue'),
        meta: { title: 'nav.hazardSources', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'enterprises/import', name: 'enterprise-import', component: () => import('./views/enterprise/EnterpriseImportView.vue'),
        meta: { title: 'nav.enterpriseImport', permission: 'manage_enterprises' },
      },
      {
        path: 'enterprises/hazard-substances', name: 'hazard-substances', component: () => import('./views/enterprise/HazardSubstancesView.vue'),
        meta: { title: 'nav.hazardSubstances', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'enterprises/:id', name: 'enterprise', component: () => import('./views/enterprise/EnterpriseDetailView.vue'),
        meta: { title: 'nav.enterprises', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'hazards', name: 'hazards', component: () => import('./views/danger/DangersView.vue'),
        meta: { title: 'nav.hazards', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'hazards/board', name: 'hazard-board', component: () => import('./views/danger/DangerBoardView.vue'),
        meta: { title: 'nav.hazardBoard', permission: 'read_enterprises' },
      },
      {
        path: 'hazards/stats', name: 'hazard-stats', component: () => import('./views/danger/DangerStatsView.vue'),
        meta: { title: 'nav.hazardStats', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'hazards/import', name: 'hazard-import', component: () => import('./views/danger/DangerImportView.vue'),
        meta: { title: 'nav.hazardImport', permission: 'manage_enterprises' },
      },
      {
        path: 'hazards/:id', name: 'hazard', component: () => import('./views/danger/DangerDetailView.vue'),
        meta: { title: 'nav.hazards', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'inspections', name: 'inspections', component: () => import('./views/inspection/InspectionsView.vue'),
        meta: { title: 'nav.inspections', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'inspections/new', name: 'inspection-new', component: () => import('./views/inspection/InspectionFormView.vue'),
        meta: { title: 'inspection.new', permission: ['manage_enterprises', 'own_enterprise'] },
      },
      {
        path: 'inspections/:id', name: 'inspection', component: () => import('./views/inspection/InspectionDetailView.vue'),
        meta: { title: 'nav.inspections', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'campaigns', name: 'campaigns', component: () => import('./views/campaign/CampaignsView.vue'),
        meta: { title: 'nav.campaigns', permission: 'read_enterprises' },
      },
      {
        path: 'campaigns/:id', name: 'campaign', component: () => import('./views/campaign/CampaignDetailView.vue'),
        meta: { title: 'nav.campaigns', permission: 'read_enterprises' },
      },
      {
        path: 'checklists', name: 'checklists', component: () => import('./views/inspection/ChecklistsView.vue'),
        meta: { title: 'nav.checklists', permission: ['read_enterprises', 'own_enterprise'] },
      },
      {
        path: 'tipoffs', name: 'tipoffs', component: () => import('./views/tipoff/TipoffsView.vue'),
        meta: { title: 'nav.tipoffs', permission: 'handle_tipoffs' },
      },
      {
        path: 'tipoffs/:id', name: 'tipoff', component: () => import('./views/tipoff/TipoffDetailView.vue'),
        meta: { title: 'nav.tipoffs', permission: 'handle_tipoffs' },
      },
      {
        path: 'calendar', name: 'calendar', component: () => import('./views/calendar/HolidaysView.vue'),
        meta: { title: 'nav.calendar' },
      },
      {
        path: 'forbidden', name: 'forbidden', component: () => import('./views/home/StatusView.vue'),
        props: { kind: 'forbidden' }, meta: { title: 'status.forbidden.title' },
      },
      {
        path: ':rest(.*)*', name: 'not-found', component: () => import('./views/home/StatusView.vue'),
        props: { kind: 'not_found' }, meta: { title: 'status.not_found.title' },
      },
    ],
  },
  {
    path: '/enterprises/:id/risk-points/:point/card', name: 'risk-card',
    component: () => import('./views/enterprise/RiskCardPrintView.vue'),
    meta: { title: 'enterprise.risk.card', permission: ['read_enterprises', 'own_enterprise'] },
  },
  {
    path: '/inspections/:id/print', name: 'inspection-print',
    component: () => import('./views/inspection/InspectionPrintView.vue'),
    meta: { title: 'inspection.record.title', permission: ['read_enterprises', 'own_enterprise'] },
  },
  {
    path: '/incidents/:id/reports/:report/print', name: 'incident-report-print',
    component: () => import('./views/incident/IncidentReportPrintView.vue'),
    meta: { title: 'incident.report.printTitle', permission: 'read_incidents' },
  },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  if (!session.checked) await loadMe()
  const me = session.me
  if (to.meta.public) return me && to.name === 'login' ? { name: 'home' } : true
  if (!me) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  if (me.password_change_required && to.name !== 'password') return { name: 'password' }
  if (to.meta.permission && !can(to.meta.permission)) return { name: 'forbidden', query: { from: to.fullPath } }
  return true
})

onSessionProblem((error) => {
  if (error.code === 'password_change_required') {
    void router.push({ name: 'password' })
    return
  }
  session.me = null
  if (router.currentRoute.value.name !== 'login') {
    void router.push({ name: 'login', query: { expired: '1' } })
  }
})
