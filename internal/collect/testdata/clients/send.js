// Sends a known set of messages to a revloop collector with the real npm
// clients. Used by TestRealClients in internal/collect; run with
// HOST=http://127.0.0.1:PORT WRITE_KEY=wk_... node send.js
'use strict';
const { Analytics } = require('@segment/analytics-node');
const Rudder = require('@rudderstack/rudder-sdk-node');

const host = process.env.HOST;
const writeKey = process.env.WRITE_KEY;
const landing = 'https://www.example.cn/pricing?utm_source=baidu&utm_medium=cpc&utm_campaign=spring&bd_vid=7788';

async function segment() {
  const a = new Analytics({ writeKey, host, flushAt: 4, flushInterval: 200, maxRetries: 2 });
  const errors = [];
  a.on('error', (e) => errors.push(e));
  a.page({ anonymousId: 'seg-anon', messageId: 'seg-page', name: 'Pricing', properties: { url: landing }, context: { ip: '198.51.100.20', userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36' } });
  a.track({ anonymousId: 'seg-anon', messageId: 'seg-track', event: 'Demo Requested', properties: { plan: 'pro' } });
  a.identify({ userId: 'seg-user', anonymousId: 'seg-anon', messageId: 'seg-identify', traits: { email: 'wang.fang@example.cn', name: '王芳' } });
  a.group({ userId: 'seg-user', groupId: 'example.cn', messageId: 'seg-group', traits: { name: 'Example 公司' } });
  a.alias({ userId: 'seg-user', previousId: 'seg-anon', messageId: 'seg-alias' });
  a.screen({ userId: 'seg-user', messageId: 'seg-screen', name: 'Home' });
  await a.closeAndFlush({ timeout: 15000 });
  if (errors.length) throw new Error('analytics-node: ' + errors.map(String).join('; '));
}

async function rudder() {
  const errors = [];
  const r = new Rudder(writeKey, { dataPlaneUrl: host, flushAt: 4, flushInterval: 200, retryCount: 2, errorHandler: (e) => errors.push(e), logLevel: 'error' });
  r.page({ anonymousId: 'rs-anon', messageId: 'rs-page', name: 'Whitepaper', properties: { url: 'https://www.example.cn/wp?gclid=CjwKrs&utm_source=google' } });
  r.track({ anonymousId: 'rs-anon', messageId: 'rs-track', event: 'Whitepaper Downloaded', properties: { title: 'B2B 增长' } });
  r.identify({ userId: 'rs-user', anonymousId: 'rs-anon', messageId: 'rs-identify', traits: { email: 'li.lei@example.cn' } });
  r.group({ userId: 'rs-user', groupId: 'example.cn', messageId: 'rs-group' });
  r.alias({ userId: 'rs-user', previousId: 'rs-anon', messageId: 'rs-alias' });
  r.screen({ userId: 'rs-user', messageId: 'rs-screen', name: 'Home' });
  await r.flush();
  await r.flush();
  if (errors.length) throw new Error('rudder-sdk-node: ' + errors.map(String).join('; '));
}

(async () => {
  await segment();
  await rudder();
  console.log('sent');
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
