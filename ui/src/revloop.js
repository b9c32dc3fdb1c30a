// revloop browser SDK: Segment's analytics-next (MIT), configured to post to
// the revloop server that served this file and to fetch nothing from
// anywhere else, plus what B2B attribution needs on top of it:
//
//   * first-touch and last-touch UTM parameters and ad click ids, kept in
//     first-party storage and attached to every event (context.campaign and
//     context.revloop);
//   * the anonymous id a tracked link (/r/CODE) set, adopted from ?rl_aid=;
//   * a page view on load;
//   * form submits with an email or phone field → identify + "Form Submitted".
//
// Loaded with <script async src="https://REVLOOP/sdk/revloop.js"
// data-write-key="KEY"></script>; window.revloop is the analytics instance
// (calls made before it loads are buffered).
import { AnalyticsBrowser } from '@segment/analytics-next'

const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content']
// Ad platforms' click ids, in the order they are looked for.
const CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'msclkid', 'fbclid', 'li_fat_id', 'ttclid', 'bd_vid', 'clickid', 'gdt_vid', 'qz_gdt']
const FIRST_KEY = 'rl_first_touch'
const LAST_KEY = 'rl_last_touch'
const MAX_VALUE = 500

const memory = {}
const storage = {
  get(k) {
    try {
      const v = window.localStorage.getItem(k)
      return v == null ? memory[k] : JSON.parse(v)
    } catch (e) {
      return memory[k]
    }
  },
  set(k, v) {
    memory[k] = v
    try {
      window.localStorage.setItem(k, JSON.stringify(v))
    } catch (e) {
      // private mode or storage full: the in-memory copy serves this page
    }
  },
}

// touchFrom reads the campaign parameters of a landing URL; null when it
// carries none.
export function touchFrom(href, referrer) {
  let u
  try {
    u = new URL(href)
  } catch (e) {
    return null
  }
  const t = {}
  for (const k of UTM_KEYS) {
    const v = u.searchParams.get(k)
    if (v) t[k] = v.slice(0, MAX_VALUE)
  }
  for (const k of CLICK_IDS) {
    const v = u.searchParams.get(k)
    if (v) {
      t.click_id_type = k
      t.click_id = v.slice(0, MAX_VALUE)
      break
    }
  }
  if (Object.keys(t).length === 0) return null
  t.landing_url = href.slice(0, 2000)
  if (referrer) t.referrer = String(referrer).slice(0, 2000)
  t.at = new Date().toISOString()
  return t
}

function recordTouch() {
  const t = touchFrom(window.location.href, document.referrer)
  if (!t) return
  if (!storage.get(FIRST_KEY)) storage.set(FIRST_KEY, t)
  storage.set(LAST_KEY, t)
}

// campaignOf turns a stored touch into Segment's context.campaign shape.
function campaignOf(t) {
  const c = {}
  if (t.utm_source) c.source = t.utm_source
  if (t.utm_medium) c.medium = t.utm_medium
  if (t.utm_campaign) c.name = t.utm_campaign
  if (t.utm_term) c.term = t.utm_term
  if (t.utm_content) c.content = t.utm_content
  if (t.click_id_type) c[t.click_id_type] = t.click_id
  return c
}

function scriptConfig() {
  const cfg = Object.assign({}, window.revloopConfig || {})
  const el = document.currentScript || document.querySelector('script[data-write-key][src*="/sdk/revloop"]')
  if (el) {
    if (!cfg.writeKey) cfg.writeKey = el.getAttribute('data-write-key')
    if (!cfg.apiHost && el.src) {
      const u = new URL(el.src, window.location.href)
      cfg.apiHost = u.host + '/v1'
      cfg.protocol = u.protocol.replace(':', '')
    }
    if (el.getAttribute('data-forms') === 'off') cfg.forms = false
    if (el.getAttribute('data-page') === 'off') cfg.page = false
  }
  return cfg
}

const EMAIL_FIELD = /e-?mail|邮箱|邮件/i
const PHONE_FIELD = /phone|mobile|tel|手机|电话/i
const TRAIT_FIELDS = [
  ['name', /^(full_?name|name|姓名|your_?name)$/i],
  ['first_name', /^(first_?name|given_?name|名)$/i],
  ['last_name', /^(last_?name|family_?name|surname|姓)$/i],
  ['company', /company|organi[sz]ation|公司|单位|企业/i],
  ['title', /^(job_?)?title$|position|职位|职务/i],
]

// formTraits reads the person a form describes; null without an email or
// phone field that holds a value.
export function formTraits(form) {
  const traits = {}
  for (const el of Array.from(form.elements || [])) {
    if (!el.name && !el.id) continue
    const key = el.name || el.id
    const type = (el.type || '').toLowerCase()
    if (type === 'password' || type === 'hidden' || type === 'file') continue
    const v = (el.value || '').trim().slice(0, MAX_VALUE)
    if (!v) continue
    if (type === 'email' || EMAIL_FIELD.test(key)) {
      if (!traits.email && v.includes('@')) traits.email = v
    } else if (type === 'tel' || PHONE_FIELD.test(key)) {
      if (!traits.phone) traits.phone = v
    } else {
      for (const [trait, re] of TRAIT_FIELDS) {
        if (!traits[trait] && re.test(key)) traits[trait] = v
      }
    }
  }
  return traits.email || traits.phone ? traits : null
}

function watchForms(analytics) {
  const resubmitting = new WeakSet()
  window.addEventListener('submit', (e) => {
    const form = e.target
    if (!(form instanceof HTMLFormElement) || resubmitting.has(form)) return
    if (form.hasAttribute('data-revloop-ignore')) return
    const traits = formTraits(form)
    if (!traits) return
    const props = {
      form_id: form.id || undefined,
      form_name: form.getAttribute('name') || undefined,
      form_action: form.getAttribute('action') || undefined,
    }
    const sent = Promise.all([analytics.identify(traits), analytics.track('Form Submitted', props)])
    // A form the page submits itself (fetch/XHR) stays on the page; a plain
    // form navigates away, so hold it until the events are out (at most
    // 800 ms), then submit it as the browser would have.
    if (e.defaultPrevented || (form.target && form.target !== '_self')) return
    e.preventDefault()
    const submitter = e.submitter
    let done = false
    const go = () => {
      if (done) return
      done = true
      resubmitting.add(form)
      if (submitter && submitter.name) {
        const h = document.createElement('input')
        h.type = 'hidden'
        h.name = submitter.name
        h.value = submitter.value
        form.appendChild(h)
      }
      HTMLFormElement.prototype.submit.call(form)
    }
    sent.then(go, go)
    setTimeout(go, 800)
  })
}

function start() {
  const cfg = scriptConfig()
  if (!cfg.writeKey || !cfg.apiHost) {
    console.warn('revloop: no write key or server; add data-write-key to the script tag')
    return
  }
  recordTouch()
  const origin = (cfg.protocol || 'https') + '://' + cfg.apiHost.replace(/\/v1$/, '')
  const analytics = AnalyticsBrowser.load(
    {
      writeKey: cfg.writeKey,
      cdnURL: origin,
      // Settings are given here, so nothing is fetched from a CDN.
      cdnSettings: {
        integrations: {
          'Segment.io': {
            apiKey: cfg.writeKey,
            apiHost: cfg.apiHost,
            protocol: cfg.protocol || 'https',
            deliveryStrategy: { strategy: 'standard', config: { keepalive: true } },
          },
        },
        plan: {},
        metrics: { sampleRate: 0 },
        remotePlugins: [],
      },
    },
    { initialPageview: false, retryQueue: true },
  )
  analytics.addSourceMiddleware(({ payload, next }) => {
    const ctx = (payload.obj.context = payload.obj.context || {})
    const first = storage.get(FIRST_KEY)
    const last = storage.get(LAST_KEY)
    if (last && (!ctx.campaign || Object.keys(ctx.campaign).length === 0)) ctx.campaign = campaignOf(last)
    else if (last && last.click_id_type && ctx.campaign && !ctx.campaign[last.click_id_type]) ctx.campaign[last.click_id_type] = last.click_id
    ctx.revloop = Object.assign({}, ctx.revloop, { first_touch: first || undefined, last_touch: last || undefined })
    next(payload)
  })
  // A tracked link forwards the anonymous id it gave the click. A visitor
  // new to this site takes it, so that the click and the visit are one
  // person from the start; a returning visitor keeps their own id and the
  // page view names the link's (context.revloop.link_anonymous_id).
  let linked = new URL(window.location.href).searchParams.get('rl_aid')
  if (linked && !/^[A-Za-z0-9_-]{8,64}$/.test(linked)) linked = null
  const newVisitor = !storage.get('rl_seen')
  storage.set('rl_seen', true)
  analytics.then(([a]) => {
    let extra
    if (linked && newVisitor) a.setAnonymousId(linked)
    else if (linked && a.user().anonymousId() !== linked) extra = { context: { revloop: { link_anonymous_id: linked } } }
    if (cfg.page !== false) a.page(undefined, undefined, {}, extra)
  })
  if (cfg.forms !== false) watchForms(analytics)
  window.revloop = analytics
  window.revloop.touches = () => ({ first: storage.get(FIRST_KEY) || null, last: storage.get(LAST_KEY) || null })
}

start()
