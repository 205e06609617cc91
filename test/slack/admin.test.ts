// The queue dashboard at /admin/queues: not there at all without ADMIN_PASSWORD (404); with it,
// nothing without the right credentials (401); the board with them (HTML, and its JSON API over
// the bot's four queues); read-only unless ADMIN_QUEUES_WRITE=true, which its API enforces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRoom, quickPlan, type Room } from './harness.ts';

const PASSWORD = 'a long admin password 7f3c';
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
const ADMIN = basic('admin', PASSWORD);

let off: Room;
let readOnly: Room;
let writable: Room;

beforeAll(async () => {
  [off, readOnly, writable] = await Promise.all([
    openRoom({ plain: quickPlan('plain') }),
    openRoom({ plain: quickPlan('plain') }, { config: { ADMIN_PASSWORD: PASSWORD } }),
    openRoom({ plain: quickPlan('plain') }, { config: { ADMIN_PASSWORD: PASSWORD, ADMIN_QUEUES_WRITE: 'true' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([off, readOnly, writable].map((r) => r?.close()));
});

describe.concurrent('the queue dashboard', () => {
  it('is not there without ADMIN_PASSWORD, whatever the request carries', async () => {
    for (const path of ['/admin/queues', '/admin/queues/', '/admin/queues/api/queues']) {
      expect((await fetch(`${off.url}${path}`)).status, path).toBe(404);
      expect((await fetch(`${off.url}${path}`, { headers: ADMIN })).status, path).toBe(404);
    }
  });

  it('refuses every request without the right credentials: none, a wrong password, a wrong user, a malformed header', async () => {
    for (const headers of [{}, basic('admin', 'guess'), basic('admin', `${PASSWORD} `), basic('root', PASSWORD), { authorization: `Bearer ${PASSWORD}` }, { authorization: 'Basic !!!' }]) {
      for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/favicon-32x32.png']) {
        const response = await fetch(`${readOnly.url}${path}`, { headers });
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
        expect(await response.text()).toBe('authentication required\n');
      }
    }
    // A write refused for want of credentials changes nothing.
    expect((await fetch(`${writable.url}/admin/queues/api/queues/cutover/pause`, { method: 'PUT' })).status).toBe(401);
    expect(await writable.bot.runtime.queues.cutover.isPaused()).toBe(false);
  });

  it('serves the board with them: its page, and the four queues through its API', async () => {
    const page = await fetch(`${readOnly.url}/admin/queues`, { headers: ADMIN });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    expect(html).toContain('<base href="/admin/queues/" />');
    expect(html).toContain('<title>cutover-bot queues (read-only)</title>');
    // Its assets come from under the same mount, behind the same password.
    const icon = await fetch(`${readOnly.url}/admin/queues/static/favicon-32x32.png`, { headers: ADMIN });
    expect([icon.status, icon.headers.get('content-type')]).toEqual([200, 'image/png']);
    const api = await fetch(`${readOnly.url}/admin/queues/api/queues`, { headers: ADMIN });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(['commands', 'cutover', 'notify', 'rollback']);
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it('is read-only unless ADMIN_QUEUES_WRITE=true: a pause is refused (405) and the queue runs on', async () => {
    const refused = await fetch(`${readOnly.url}/admin/queues/api/queues/cutover/pause`, { method: 'PUT', headers: ADMIN });
    expect(refused.status).toBe(405);
    expect(await readOnly.bot.runtime.queues.cutover.isPaused()).toBe(false);
  });

  it('with ADMIN_QUEUES_WRITE=true the same pause is carried out', async () => {
    const body = (await (await fetch(`${writable.url}/admin/queues/api/queues`, { headers: ADMIN })).json()) as { queues: Array<{ readOnlyMode: boolean }> };
    expect(body.queues.some((q) => q.readOnlyMode)).toBe(false);
    const paused = await fetch(`${writable.url}/admin/queues/api/queues/notify/pause`, { method: 'PUT', headers: ADMIN });
    expect(paused.status).toBe(200);
    expect(await writable.bot.runtime.queues.notify.isPaused()).toBe(true);
    expect((await fetch(`${writable.url}/admin/queues/api/queues/notify/resume`, { method: 'PUT', headers: ADMIN })).status).toBe(200);
    expect(await writable.bot.runtime.queues.notify.isPaused()).toBe(false);
  });
});
