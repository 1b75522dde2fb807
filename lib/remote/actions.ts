/**
 * What the centre may ask a site's gateway to do, one row per action, and the class of each row
 * that a site's allow-list names. Action names follow the DeviceDriver's methods, so a remote
 * driver forwards a call under the name of the method it stands for.
 */
export type ActionClass = 'read' | 'acknowledge' | 'power' | 'boot' | 'isolate';

export const ACTION_CLASSES: readonly ActionClass[] = ['read', 'acknowledge', 'power', 'boot', 'isolate'];

/** What a site allows when its owner has not said (nothing that changes a device). */
export const DEFAULT_ALLOW: readonly ActionClass[] = ['read'];

export const REMOTE_ACTIONS = {
  readPower: 'read',
  probePower: 'read',
  identity: 'read',
  readInventory: 'read',
  readAuditLog: 'read',
  readNewEvents: 'read',
  readIsolation: 'read',
  sensors: 'read',
  'consent.read': 'read',
  'defense.status': 'read',
  acknowledgeAlert: 'acknowledge',
  changePower: 'power',
  requestPower: 'power',
  powerOn: 'power',
  identify: 'power',
  wake: 'power',
  'bmc.status': 'read',
  'bmc.sensors': 'read',
  'bmc.sel': 'read',
  'bmc.sel-new': 'read',
  'bmc.identify': 'power',
  'bmc.identify-off': 'power',
  'bmc.sel-clear': 'power',
  startBoot: 'boot',
  stopBoot: 'boot',
  'bmc.boot': 'boot',
  'consent.request': 'boot',
  'consent.submit': 'boot',
  'consent.cancel': 'boot',
  setIsolation: 'isolate',
  'defense.apply': 'isolate',
  'defense.release': 'isolate',
  'defense.addWatchdog': 'isolate',
  'defense.removeWatchdog': 'isolate',
} as const satisfies Record<string, ActionClass>;

export type RemoteAction = keyof typeof REMOTE_ACTIONS;

export function isRemoteAction(a: unknown): a is RemoteAction {
  return typeof a === 'string' && Object.prototype.hasOwnProperty.call(REMOTE_ACTIONS, a);
}

export function actionClass(a: RemoteAction): ActionClass {
  return REMOTE_ACTIONS[a];
}

/** An allow-list from a list of class names (an editor's checkboxes); unknown names are dropped. */
export function allowList(classes: readonly unknown[] | undefined): Set<ActionClass> {
  const out = new Set<ActionClass>();
  for (const c of classes ?? DEFAULT_ALLOW) if ((ACTION_CLASSES as readonly unknown[]).includes(c)) out.add(c as ActionClass);
  return out;
}
