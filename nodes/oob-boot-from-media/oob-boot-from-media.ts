import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { acquireAmt } from '../../lib/amt/connect';
import { BOOT_TARGETS, canonicalBootTarget, isIderTarget } from '../../lib/amt/boot';
import { bootFromMedia, MediaBoot, MediaBootFinal, MediaBootOutcome } from '../../lib/amt/boot-media';
import type { IderProgress } from '../../lib/amt/redirection/ider-session';
import { deviceInfo, deviceLabel } from '../../lib/device';
import { ipmiBootTarget } from '../../lib/ipmi/boot';
import { withIpmi } from '../../lib/ipmi/connect';
import { errorText, nodeError } from '../shared/errors';
import { onInput } from '../shared/input';
import { resolveDevice } from '../shared/resolve-device';
import { statusHelper } from '../shared/status';
import { replyTopic } from '../shared/topic';
import type { OobDeviceNode, OobMessage } from '../shared/types';

interface BootDef extends NodeDef {
  device?: string;
  target?: string;
  image?: string;
  imageDir?: string;
  url?: string;
  certHash?: string;
  power?: 'auto' | 'none';
  /** Seconds from the request to the device loading its boot image. */
  timeout?: string | number;
  stopAfterBoot?: boolean;
}

/** One boot from media per device at a time, across every node of the runtime. */
const running = new Map<string, MediaBoot>();

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export = function (RED: NodeAPI) {
  function OobBootFromMedia(this: Node, def: BootDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const mine = new Set<MediaBoot>();
    const timeoutMs = (Number(def.timeout) > 0 ? Number(def.timeout) : 300) * 1000;
    const show = statusHelper(RED, node);

    function stopAll(): Promise<unknown> {
      return Promise.all([...mine].map((b) => b.stop().catch(() => undefined)));
    }

    function targetOf(msg: OobMessage): string {
      const asked = text(msg.target) ?? (text(msg.payload) && (BOOT_TARGETS as readonly string[]).includes(String(msg.payload).trim().toLowerCase()) ? text(msg.payload) : undefined);
      return canonicalBootTarget(asked ?? def.target ?? 'pxe');
    }

    onInput(node, show, (msg) => {
      const action = text(msg.action) ?? text(msg.payload);
      if (action === 'stop') {
        show('busy', 'oob-boot-from-media.status.stopping');
        return stopAll().then(() => show('idle', 'oobkit.status.stopped'));
      }
      const target = targetOf(msg);
      const device = resolveDevice(RED, configured, msg);
      // --- IPMI (issue 8): a server without AMT boots through its BMC's boot override ---
      if (!device.amt && device.ipmi) {
        const info = deviceInfo(device);
        show('busy', 'oob-boot-from-media.status.boot-override', { target });
        return withIpmi(device.ipmi, (c) => ipmiBootTarget(c, target, { power: def.power === 'none' ? 'none' : 'auto', host: device.host })).then((o) => {
          show('ok', o.power === 'none' ? 'oob-boot-from-media.status.armed' : 'oob-boot-from-media.status.requested', { target: o.target });
          return Object.assign(msg, { topic: replyTopic(msg, info.name, info.host), payload: { ...o, protocol: 'ipmi', device: info } }) as NodeMessage;
        });
      }
      if (!device.amt) throw nodeError('UNSUPPORTED', show._('oob-boot-from-media.error.no-credentials', { device: deviceLabel(device) }));
      const key = device.host.toLowerCase();
      if (running.has(key)) throw nodeError('BAD_INPUT', show._('oob-boot-from-media.error.already-running', { device: deviceLabel(device) }));
      const amt = device.amt;
      const lease = acquireAmt(amt);
      const release = lease.release;
      const info = deviceInfo(device);
      const boot = bootFromMedia(lease.client, device.host, {
        target,
        imageDirectory: def.imageDir,
        image: text(msg.image) ?? def.image,
        https: target === 'https' ? { url: text(msg.url) ?? def.url ?? '', serverCertSha256: def.certHash || undefined } : undefined,
        power: def.power === 'none' ? 'none' : 'auto',
        timeoutMs,
        stopAfterBoot: def.stopAfterBoot === true,
        redirection: isIderTarget(canonicalBootTarget(target))
          ? {
              host: amt.host,
              port: amt.redirectionPort,
              tls: amt.tls,
              username: amt.username,
              password: amt.password,
              fingerprint: amt.fingerprint,
              trustOnFirstUse: amt.trustOnFirstUse,
              legacyTls: amt.legacyTls,
              onFingerprintTrusted: amt.onFingerprintTrusted,
              timeoutMs: amt.timeoutMs,
            }
          : undefined,
      });
      running.set(key, boot);
      mine.add(boot);
      let booted = false;
      boot.on('phase', (p: string) => show('busy', 'oob-boot-from-media.status.phase', { target, phase: p }));
      boot.on('progress', (p: IderProgress) =>
        show(booted ? 'ok' : 'busy', 'oob-boot-from-media.status.progress', { percent: Math.floor(p.fraction * 100), rate: (p.rate / 1e6).toFixed(1) }),
      );
      const sent = boot.outcome.then((o: MediaBootOutcome) => {
        booted = o.result === 'booted';
        if (o.result === 'booted') show('ok', o.label ? 'oob-boot-from-media.status.booted-label' : 'oob-boot-from-media.status.booted', { label: o.label });
        else if (o.result === 'stopped') show('idle', 'oobkit.status.stopped');
        else show('ok', o.power === 'none' ? 'oob-boot-from-media.status.armed' : 'oob-boot-from-media.status.requested', { target: o.target });
        return Object.assign(msg, { topic: replyTopic(msg, info.name, info.host), payload: { ...o, device: info } }) as NodeMessage;
      });
      boot.final.then((f: MediaBootFinal) => {
        running.delete(key);
        mine.delete(boot);
        release();
        if (!booted) return;
        if (f.error) {
          show.error(f.error);
          const ended = nodeError('CLOSED', show._('oob-boot-from-media.error.ider-ended', { reason: errorText(show._, f.error) }));
          node.error(ended, msg as NodeMessage);
        } else {
          show('idle', 'oob-boot-from-media.status.ider-done', { mb: (f.bytesServed / 1e6).toFixed(1) });
        }
      });
      return sent;
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      const t = setTimeout(done, 5000);
      stopAll().then(() => {
        clearTimeout(t);
        done();
      });
    });
  }

  RED.nodes.registerType('oob-boot-from-media', OobBootFromMedia as never);
};
