/**
 * Every discovery config the HA node can publish, checked against Home Assistant's own schemas
 * (test/fixtures/ha-mqtt-schema.ts, written from HA's source): AMT PCs with and without identity,
 * MAC, isolation and area; wake-only and bare devices; IPMI servers with every sensor type and
 * every unit a BMC can report; the gateway; both discovery modes; two sites that share PC names
 * and a PC. unique_ids, device identifiers and default entity ids never collide across sites.
 */
import type { DeviceControl } from '../lib/mqtt';
import { deviceDiscovery, deviceKeyOf, DiscoveredDevice, DiscoveryContext, DiscoveryMode, gatewayDiscovery, uniqueIdOf } from '../lib/mqtt/discovery';
import { entitiesFor, EntitySpec, sensorEntities, UNIT_CLASSES } from '../lib/mqtt/entities';
import { sensorTypeName, unitName } from '../lib/ipmi/sdr';
import { checkDevicePayload, checkEntityPayload, parseDiscoveryTopic, SENSOR_CLASSES } from './fixtures/ha-mqtt-schema';

const origin = { name: 'OOBKit (node-red-contrib-oobkit)', sw_version: '1.0.0', support_url: 'https://example.org/oobkit' };
const ctxOf = (site: string, mode: DiscoveryMode, configurationUrl?: string): DiscoveryContext => ({ prefix: 'homeassistant', topics: { base: 'oobkit', site }, mode, origin, configurationUrl });

// What each kind of device's control offers (the entity catalogue reads only which methods exist).
const act = async () => ({ action: 'none' });
const controls: Record<string, DeviceControl> = {
  amtIsolation: { hasAmt: true, poll: async () => ({ power: 'on' }), identity: async () => ({}), setPower: act, reset: act, wake: act, pxeBoot: act, setIsolation: act, close: () => undefined },
  amt: { hasAmt: true, poll: async () => ({ power: 'on' }), identity: async () => ({}), setPower: act, reset: act, wake: act, pxeBoot: act, close: () => undefined },
  ipmi: { hasAmt: false, poll: async () => ({ power: 'on' }), setPower: act, reset: act, wake: act, pxeBoot: act, sensors: async () => [], close: () => undefined },
  wakeOnly: { hasAmt: false, wake: act, close: () => undefined },
  bare: { hasAmt: false, close: () => undefined },
};

/** Every sensor type a BMC reports, with every unit code IPMI defines (and no unit). */
function everySensor(): EntitySpec[] {
  const readings = [];
  let n = 1;
  for (let unit = 0; unit <= 92; unit++) {
    for (const type of [0x01, 0x02, 0x03, 0x04, 0x0b, 0x08, 0xc0]) {
      readings.push({ number: n, name: `S${n} ${sensorTypeName(type)}`, type: sensorTypeName(type), unit: unitName(unit), value: 1 });
      n++;
    }
  }
  readings.push({ number: n, name: 'Pwr Consumption', type: 'current', unit: 'W', value: 180 });
  return sensorEntities(readings);
}

function device(site: string, name: string, o: { mac?: string; identity?: boolean; area?: string; legacy?: boolean } = {}): DiscoveredDevice {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const hex = o.mac?.replace(/:/g, '');
  return {
    key: deviceKeyOf(slug, hex),
    legacyKey: hex ?? `${site}_${slug}`.replace(/-/g, '_'),
    keepLegacyIdentifier: o.legacy,
    slug,
    name,
    mac: o.mac,
    area: o.area,
    identity: o.identity ? { manufacturer: 'Dell Inc.', model: 'OptiPlex 7080', amtVersion: '16.1.27', serial: 'ABC1234' } : undefined,
  };
}

interface Published {
  site: string;
  mode: DiscoveryMode;
  topic: string;
  payload: Record<string, unknown>;
}

function everything(mode: DiscoveryMode): Published[] {
  const out: Published[] = [];
  for (const site of ['a', 'a-b']) {
    const ctx = ctxOf(site, mode, site === 'a' ? 'http://gateway.local:1880/#flow/1' : undefined);
    const sets: Array<[DiscoveredDevice, EntitySpec[], EntitySpec[]?]> = [
      // Same PC (MAC) at both sites; same names at both sites; names that collided before.
      [device(site, 'pc-01', { mac: '02:00:86:00:00:01', identity: true, area: 'Reception' }), entitiesFor(controls.amtIsolation)],
      [device(site, 'pc-02', { mac: '02:00:86:00:00:02' }), entitiesFor(controls.amt), entitiesFor(controls.amtIsolation).filter((e) => e.id === 'isolation')],
      [device(site, 'pc-03', { identity: true, legacy: true }), entitiesFor(controls.amt)],
      [device(site, site === 'a' ? 'b-c' : 'c'), entitiesFor(controls.wakeOnly)],
      [device(site, 'printer'), entitiesFor(controls.bare)],
      [device(site, 'srv-01', { mac: '02:00:00:00:10:01' }), [...entitiesFor(controls.ipmi), ...everySensor()]],
    ];
    for (const [d, entities, removed] of sets) {
      for (const m of deviceDiscovery(ctx, d, entities, removed)) if (m.payload) out.push({ site, mode, topic: m.topic, payload: JSON.parse(m.payload) });
    }
    const gw = gatewayDiscovery(ctx, `OOBKit gateway ${site}`);
    out.push({ site, mode, topic: gw.topic, payload: JSON.parse(gw.payload) });
  }
  return out;
}

/** Per entity: topic, component, options (merged with the device payload's device block in device mode). */
function entitiesOf(all: Published[]): Array<{ site: string; component: string; options: Record<string, unknown>; device: Record<string, unknown> }> {
  return all.flatMap((p) => {
    const t = parseDiscoveryTopic(p.topic)!;
    if (t.component === 'device') return Object.values(p.payload.components as Record<string, Record<string, unknown>>).filter((c) => Object.keys(c).length > 1).map((c) => ({ site: p.site, component: c.platform as string, options: c, device: p.payload.device as Record<string, unknown> }));
    return [{ site: p.site, component: t.component, options: p.payload, device: p.payload.device as Record<string, unknown> }];
  });
}

describe.each(['entity', 'device'] as const)('every discovery config in %s mode', (mode) => {
  const all = everything(mode);

  it("passes HA's schemas: keys, types, device classes, units, state classes, entity categories", () => {
    const problems: string[] = [];
    for (const p of all) {
      const t = parseDiscoveryTopic(p.topic);
      if (!t) {
        problems.push(`${p.topic}: not a discovery topic HA reads`);
        continue;
      }
      expect(t.nodeId).toBe(p.site === 'a' ? 'oobkit_a' : 'oobkit_a_b');
      if (mode === 'device') {
        expect(t.component).toBe('device');
        problems.push(...checkDevicePayload(p.payload, p.topic));
      } else {
        expect(t.objectId).toBe(p.payload.unique_id);
        problems.push(...checkEntityPayload(t.component, p.payload, p.topic));
      }
    }
    expect(problems).toEqual([]);
    // All kinds were there: 2 sites x (6 devices + gateway) messages in device mode, far more per entity.
    expect(all.length).toBe(mode === 'device' ? 14 : entitiesOf(all).length);
  });

  it('gives unique_ids, device identifiers and default entity ids that no two entities or devices share, across sites', () => {
    const entities = entitiesOf(all);
    const ids = entities.map((e) => e.options.unique_id as string);
    expect(new Set(ids).size).toBe(ids.length);
    // Entity ids: PCs of one name at two sites stay apart. (Entity ids have no character left to
    // separate site from PC, so site "a" + PC "b-c" and site "a-b" + PC "c" both ask for a_b_c_...;
    // HA then suffixes the second, as it does for any taken entity id. Their unique_ids differ.)
    const sameNames = entities.filter((e) => !['b-c', 'c'].includes(e.device.name as string));
    const entityIds = sameNames.map((e) => e.options.default_entity_id as string);
    expect(new Set(entityIds).size).toBe(entityIds.length);
    // Site "a" with PC "b-c" and site "a-b" with PC "c" used to give the same ids.
    const wake = entities.filter((e) => (e.device.name === 'b-c' || e.device.name === 'c') && String(e.options.unique_id).endsWith('_wake'));
    expect(wake.map((e) => e.options.unique_id).sort()).toEqual(['oobkit_a-b_c_wake', 'oobkit_a_b-c_wake']);
    // The same PC (MAC) behind two gateways: one HA device per site, both linked to the PC's MAC.
    const pc1 = entities.filter((e) => e.device.name === 'pc-01' && String(e.options.unique_id).endsWith('_power'));
    expect(pc1.map((e) => (e.device.identifiers as string[])[0]).sort()).toEqual(['oobkit_a-b_M020086000001', 'oobkit_a_M020086000001']);
    expect(pc1.every((e) => JSON.stringify(e.device.connections) === JSON.stringify([['mac', '02:00:86:00:00:01']]))).toBe(true);
    expect(pc1.map((e) => e.options.default_entity_id).sort()).toEqual(['switch.a_b_pc_01_power', 'switch.a_pc_01_power']);
  });

  it('tells HA where the PC stands and where to manage it, and keeps the legacy device identifier when asked', () => {
    const entities = entitiesOf(all);
    const pc1 = entities.find((e) => e.site === 'a' && e.device.name === 'pc-01')!;
    expect(pc1.device).toMatchObject({ suggested_area: 'Reception', configuration_url: 'http://gateway.local:1880/#flow/1', manufacturer: 'Dell Inc.', model: 'OptiPlex 7080', serial_number: 'ABC1234', sw_version: 'AMT 16.1.27' });
    expect(entities.find((e) => e.site === 'a-b' && e.device.name === 'pc-01')!.device.configuration_url).toBeUndefined();
    const pc3 = entities.find((e) => e.site === 'a-b' && e.device.name === 'pc-03')!;
    expect(pc3.device.identifiers).toEqual(['oobkit_a-b_pc-03', 'oobkit_a_b_pc_03']);
  });

  it("takes a BMC sensor's device class from its unit, never from its IPMI type, and enables only the useful ones", () => {
    const sensors = entitiesOf(all).filter((e) => e.site === 'a' && String(e.options.unique_id).includes('_sensor_'));
    const power = sensors.find((e) => e.options.name === 'Pwr Consumption')!.options;
    expect(power).toMatchObject({ device_class: 'power', unit_of_measurement: 'W', state_class: 'measurement' });
    expect(power.enabled_by_default).toBeUndefined();
    // Every class we give is one HA knows, and each of our unit mappings is a pair HA allows.
    for (const m of Object.values(UNIT_CLASSES)) if (m.deviceClass) expect(SENSOR_CLASSES[m.deviceClass].units).toContain(m.unit);
    const byUnit = (u: string) => sensors.filter((e) => e.options.unit_of_measurement === u).map((e) => e.options.device_class);
    expect(new Set(byUnit('A'))).toEqual(new Set(['current']));
    expect(new Set(byUnit('V'))).toEqual(new Set(['voltage']));
    expect(new Set(byUnit('°C'))).toEqual(new Set(['temperature']));
    expect(new Set(byUnit('rpm'))).toEqual(new Set([undefined]));
    expect(sensors.filter((e) => e.options.unit_of_measurement === 'V').every((e) => e.options.enabled_by_default === false)).toBe(true);
    expect(sensors.filter((e) => e.options.unit_of_measurement === 'rpm').every((e) => e.options.enabled_by_default === undefined)).toBe(true);
  });

  it('shows an unknown isolation state as unknown, not OFF', () => {
    const iso = entitiesOf(all).find((e) => String(e.options.unique_id).endsWith('_isolation'))!.options;
    const template = iso.value_template as string;
    // HA's switch takes "None" as unknown; the template gives it for null and anything not a boolean.
    expect(template).toContain("'None'");
    expect(template).toMatch(/value_json\.isolated == true/);
    expect(template).toMatch(/value_json\.isolated == false/);
  });
});

it('ids from the old scheme and the new never meet: a MAC key is upper case, no slug is', () => {
  const ctx = ctxOf('x', 'entity');
  const named = device('x', '020086000001');
  const withMac = device('x', 'other', { mac: '02:00:86:00:00:01' });
  expect(uniqueIdOf(ctx, named, { id: 'power' })).not.toBe(uniqueIdOf(ctx, withMac, { id: 'power' }));
});
