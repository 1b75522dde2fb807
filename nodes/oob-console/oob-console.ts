import type { Node, NodeAPI, NodeDef } from 'node-red';
import { inputError } from '../shared/errors';
import { onInput } from '../shared/input';
import { statusHelper } from '../shared/status';
import type { OobDeviceNode, OobMessage } from '../shared/types';
import { consolePath, registerConsoleRoutes } from './console-routes';

interface ConsoleDef extends NodeDef {
  device?: string;
  /** Where users reach the editor, e.g. https://gateway.example.com; the URL is relative without it. */
  baseUrl?: string;
}

/**
 * Answers each message with the address of a PC's console page (screen and serial console) in
 * msg.payload.url, so a flow can send "open the console" with an alert. The page itself asks for
 * the editor's login.
 */
export = function (RED: NodeAPI) {
  registerConsoleRoutes(RED);

  function OobConsole(this: Node, def: ConsoleDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const show = statusHelper(RED, node);
    const base = (def.baseUrl ?? '').trim().replace(/\/+$/, '');

    onInput(node, show, (msg: OobMessage) => {
      let id = def.device;
      if (typeof msg.device === 'string' && msg.device.trim()) {
        const wanted = msg.device.trim();
        const ids: string[] = [];
        RED.nodes.eachNode((n: { id: string; type: string; name?: string }) => {
          if (n.type === 'oob-device' && n.name === wanted) ids.push(n.id);
        });
        if (ids.length !== 1) throw inputError(show._, ids.length ? 'oob-console.error.ambiguous' : 'oob-console.error.unknown', { name: wanted, count: ids.length });
        id = ids[0];
      }
      const dev = id ? (RED.nodes.getNode(id) as OobDeviceNode | null) : null;
      if (!id || !dev) throw inputError(show._, 'oob-console.error.no-device');
      const d = dev.device();
      if (!d.amt) throw inputError(show._, 'oob-console.error.no-amt', { device: d.name ?? d.host });
      const path = consolePath(RED, id);
      if (!path) throw inputError(show._, 'oob-console.error.no-editor');
      const url = `${base}${path}`;
      msg.payload = { url, kvm: `${url}#kvm`, sol: `${url}#sol`, device: { name: d.name, host: d.host } };
      show.clear();
      return msg as never;
    });
  }

  RED.nodes.registerType('oob-console', OobConsole as never);
};
