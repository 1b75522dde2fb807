/**
 * The editor's option lists are lib's tables: the dialogs offer exactly the power actions, boot
 * targets and switch-off modes the runtime takes, each with a label in every message catalog.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BOOT_TARGETS, canonicalBootTarget } from '../lib/amt/boot';
import { canonicalPowerAction, POWER_ACTION_TABLE } from '../lib/drivers';
import { OFF_ACTIONS } from '../lib/mqtt/control';
import { fillOptionLists, OPTION_LISTS } from '../nodes/shared/option-lists';

const nodesDir = path.join(__dirname, '..', 'nodes');

/** The option values of <select id="node-input-<field>"> in an editor file. */
function optionsOf(html: string, field: string): string[] {
  const select = new RegExp(`<select id="node-input-${field}"[^>]*>([\\s\\S]*?)</select>`).exec(html);
  if (!select) throw new Error(`no <select id="node-input-${field}">`);
  return [...select[1].matchAll(/<option value="([^"]*)"/g)].map((m) => m[1]);
}

function built(type: string): string {
  return fillOptionLists(fs.readFileSync(path.join(nodesDir, type, `${type}.html`), 'utf8'));
}

function catalogs(type: string): Array<{ lang: string; messages: Record<string, any> }> {
  const dir = path.join(nodesDir, type, 'locales');
  return fs
    .readdirSync(dir)
    .filter((lang) => fs.existsSync(path.join(dir, lang, `${type}.json`)))
    .map((lang) => ({ lang, messages: JSON.parse(fs.readFileSync(path.join(dir, lang, `${type}.json`), 'utf8')) }));
}

describe('editor option lists generated from lib', () => {
  it("power state's action list is 'status' and every power action of the table, in the table's order", () => {
    expect(optionsOf(built('oob-power-state'), 'action')).toEqual(['status', ...POWER_ACTION_TABLE.map((a) => a.name)]);
    expect(POWER_ACTION_TABLE).toHaveLength(14);
  });

  it('every power action the dialog offers is one the runtime takes under that very name', () => {
    for (const v of optionsOf(built('oob-power-state'), 'action').filter((x) => x !== 'status')) expect(canonicalPowerAction(v)).toBe(v);
    expect(() => canonicalPowerAction('explode')).toThrow(/unknown power action/);
  });

  it("boot from media's target list is lib's boot targets", () => {
    const targets = optionsOf(built('oob-boot-from-media'), 'target');
    expect(targets).toEqual([...BOOT_TARGETS]);
    for (const t of targets) expect(canonicalBootTarget(t)).toBe(t);
  });

  it("the HA bridge's switch-off list is lib's", () => {
    expect(optionsOf(built('oob-ha'), 'offAction')).toEqual([...OFF_ACTIONS]);
  });

  it('no generated list is also written out by hand in the editor source', () => {
    for (const [type, field] of [['oob-power-state', 'action'], ['oob-boot-from-media', 'target'], ['oob-ha', 'offAction']]) {
      const source = fs.readFileSync(path.join(nodesDir, type, `${type}.html`), 'utf8');
      expect(optionsOf(source, field)).toEqual([]);
      expect(source).toMatch(/<!-- oobkit:options [a-z-]+ [A-Za-z.-]+ -->/);
    }
  });

  it('every generated option has its label in each of the node\'s message catalogs', () => {
    const lists: Array<[string, string, string]> = [
      ['oob-power-state', 'power-actions', 'action'],
      ['oob-boot-from-media', 'boot-targets', 'target'],
      ['oob-ha', 'ha-off-actions', 'offAction'],
    ];
    for (const [type, list, section] of lists) {
      const found = catalogs(type);
      expect(found.map((c) => c.lang)).toContain('en-US');
      for (const { lang, messages } of found) {
        const labels = messages[type]?.[section] ?? {};
        const missing = OPTION_LISTS[list].filter((v) => typeof labels[v] !== 'string' || labels[v] === '');
        expect({ lang, type, missing }).toEqual({ lang, type, missing: [] });
      }
    }
  });

  it('the built editor files (npm run build) carry the generated lists', () => {
    const dist = path.join(__dirname, '..', 'dist', 'nodes');
    const file = (type: string) => path.join(dist, type, `${type}.html`);
    if (!fs.existsSync(file('oob-power-state'))) throw new Error(`${file('oob-power-state')} is missing: run npm run build first`);
    const html = (type: string) => fs.readFileSync(file(type), 'utf8');
    expect(optionsOf(html('oob-power-state'), 'action')).toEqual(OPTION_LISTS['power-actions']);
    expect(optionsOf(html('oob-boot-from-media'), 'target')).toEqual(OPTION_LISTS['boot-targets']);
    expect(optionsOf(html('oob-ha'), 'offAction')).toEqual(OPTION_LISTS['ha-off-actions']);
    for (const type of fs.readdirSync(dist)) if (fs.existsSync(file(type))) expect(html(type)).not.toContain('oobkit:options');
  });

  it('an unknown list in an editor file stops the build', () => {
    expect(() => fillOptionLists('<select><!-- oobkit:options no-such-list x.y --></select>')).toThrow(/unknown option list "no-such-list"/);
  });
});
