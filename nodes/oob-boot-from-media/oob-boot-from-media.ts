import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { BOOT_TARGETS, canonicalBootTarget } from '../../lib/amt/boot';
import { ConsentCodes } from '../../lib/amt/consent-codes';
import { deviceInfo } from '../../lib/device';
import { BootEvent, BootFinal, BootJob, BootOutcome, BootRequest, driverFor } from '../../lib/drivers';
import { errorFromData } from '../../lib/drivers/error-data';
import { errorText, nodeError } from '../shared/errors';
import { onInput } from '../shared/input';
import { resolveDevice } from '../shared/resolve-device';
import type { ManagedDevice } from '../../lib/device';
import { recoverBoots } from '../shared/boot-journal';
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

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

export = function (RED: NodeAPI) {
  function OobBootFromMedia(this: Node, def: BootDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const configured = def.device ? (RED.nodes.getNode(def.device) as OobDeviceNode | null) ?? undefined : undefined;
    const mine = new Set<BootJob>();
    const timeoutMs = (Number(def.timeout) > 0 ? Number(def.timeout) : 300) * 1000;
    const show = statusHelper(RED, node);
    /** Boots of this node waiting for the code on their PC's screen, by host. */
    const consentCodes = new ConsentCodes();

    // Boots this runtime did not finish (killed during one): the PCs here are put back once flows start.
    setImmediate(() => {
      const local: ManagedDevice[] = [];
      RED.nodes.eachNode((n: { id: string; type: string; via?: string }) => {
        if (n.type !== 'oob-device' || n.via) return;
        try {
          const d = (RED.nodes.getNode(n.id) as OobDeviceNode | null)?.device();
          if (d?.amt) local.push(d);
        } catch {
          // a device that cannot be built says so where it is used
        }
      });
      recoverBoots(RED, node, show._, local);
    });

    function stopAll(): Promise<unknown> {
      return Promise.all([...mine].map((b) => b.stop().catch(() => undefined)));
    }

    function targetOf(msg: OobMessage): string {
      const asked = text(msg.target) ?? (text(msg.payload) && (BOOT_TARGETS as readonly string[]).includes(String(msg.payload).trim().toLowerCase()) ? text(msg.payload) : undefined);
      return canonicalBootTarget(asked ?? def.target ?? 'pxe');
    }

    onInput(node, show, (msg) => {
      if (msg.consentCode !== undefined) {
        // A code for the device named in msg.device, else for the one boot of this node that waits.
        consentCodes.give(msg.device ? resolveDevice(RED, configured, msg).host.toLowerCase() : undefined, msg.consentCode);
        show('busy', 'oob-boot-from-media.status.checking-consent');
        return;
      }
      const action = text(msg.action) ?? text(msg.payload);
      if (action === 'stop') {
        show('busy', 'oob-boot-from-media.status.stopping');
        return stopAll().then(() => show('idle', 'oobkit.status.stopped'));
      }
      const target = targetOf(msg);
      const device = resolveDevice(RED, configured, msg);
      const key = device.host.toLowerCase();
      const info = deviceInfo(device);
      const driver = driverFor(device);
      let booted = false;
      const onEvent = (e: BootEvent) => {
        if (e.type === 'phase') show('busy', 'oob-boot-from-media.status.phase', { target, phase: e.text });
        else if (e.type === 'progress') show(booted ? 'ok' : 'busy', 'oob-boot-from-media.status.progress', { percent: Math.floor(e.fraction * 100), rate: (e.rate / 1e6).toFixed(1) });
        else {
          show('waiting', 'oob-boot-from-media.status.waiting-consent');
          const ask = RED.util.cloneMessage(msg) as OobMessage;
          ask.topic = replyTopic(msg, info.name, info.host);
          ask.payload = { result: 'consent-required', target, codeTimeoutSeconds: e.codeTimeoutSeconds, attempt: e.attempt, device: info };
          node.send(ask as NodeMessage);
          // The code a later message brings (msg.consentCode) goes on to the boot that asked for it.
          consentCodes
            .wait(key)
            .then((code) => started.then((job) => job.submitConsentCode(code as string)))
            .catch(() => undefined);
        }
      };
      const request: BootRequest = {
        target,
        imageDirectory: def.imageDir,
        image: text(msg.image) ?? def.image,
        https: target === 'https' ? { url: text(msg.url) ?? def.url ?? '', serverCertSha256: def.certHash || undefined } : undefined,
        power: def.power === 'none' ? 'none' : 'auto',
        timeoutMs,
        stopAfterBoot: def.stopAfterBoot === true,
        consent: {},
      };
      const started = driver.startBoot(request, onEvent);
      const sent = started.then(
        (job) => {
          mine.add(job);
          void job.final.then((f: BootFinal) => {
            consentCodes.forget(key);
            mine.delete(job);
            driver.close();
            if (!booted) return;
            if (f.error) {
              const error = errorFromData(f.error);
              show.error(error);
              node.error(nodeError('CLOSED', show._('oob-boot-from-media.error.ider-ended', { reason: errorText(show._, error) })), msg as NodeMessage);
            } else {
              show('idle', 'oob-boot-from-media.status.ider-done', { mb: (f.bytesServed / 1e6).toFixed(1) });
            }
          });
          return job.outcome.then((o: BootOutcome) => {
            booted = o.result === 'booted';
            if (o.result === 'booted') show('ok', o.label ? 'oob-boot-from-media.status.booted-label' : 'oob-boot-from-media.status.booted', { label: o.label });
            else if (o.result === 'stopped') show('idle', 'oobkit.status.stopped');
            else show('ok', o.power === 'none' ? 'oob-boot-from-media.status.armed' : 'oob-boot-from-media.status.requested', { target: o.target });
            return Object.assign(msg, { topic: replyTopic(msg, info.name, info.host), payload: { ...o, device: info } }) as NodeMessage;
          });
        },
        (e: Error) => {
          driver.close();
          throw e;
        },
      );
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
