/**
 * What an AMT audit log record is about: the auditing application (AuditAppID, 16..33) and the
 * event within it (EventID), as names a person reads and as stable slugs a flow switches on.
 * Numbers from Intel's AMT SDK (Auditable Events) as used by Intel's LMS; wording is ours.
 */

export interface AuditApp {
  name: string;
  /** Event names by EventID. */
  events: Readonly<Record<number, string>>;
}

function list(names: string[], first = 0): Record<number, string> {
  const out: Record<number, string> = {};
  names.forEach((n, i) => (out[first + i] = n));
  return out;
}

export const AUDIT_APPS: Readonly<Record<number, AuditApp>> = {
  16: {
    name: 'Security Admin',
    events: list([
      'Provisioning started',
      'Provisioning completed',
      'User added',
      'User changed',
      'User removed',
      'Login with invalid credentials',
      'User enabled or disabled',
      'TLS state changed',
      'TLS server certificate set',
      'TLS server certificate removed',
      'TLS trusted root certificate added',
      'TLS trusted root certificate removed',
      'TLS pre-shared key set',
      'Kerberos settings changed',
      'Kerberos master key changed',
      'Flash wear-out counters reset',
      'Power package changed',
      'Realm authentication mode set',
      'Upgraded from client to admin control mode',
      'Unprovisioned',
    ]),
  },
  17: {
    name: 'Remote Control',
    events: list(['Power on', 'Power off', 'Power cycle', 'Reset', 'Boot options set', 'Graceful power off', 'Graceful reset', 'Standby', 'Hibernate', 'NMI']),
  },
  18: {
    name: 'Redirection',
    events: list([
      'Storage redirection session opened',
      'Storage redirection session closed',
      'Storage redirection enabled',
      'Storage redirection disabled',
      'Serial-over-LAN session opened',
      'Serial-over-LAN session closed',
      'Serial-over-LAN enabled',
      'Serial-over-LAN disabled',
      'KVM session started',
      'KVM session ended',
      'KVM enabled',
      'KVM disabled',
      'VNC password failed 3 times',
    ]),
  },
  19: { name: 'Firmware Update', events: list(['Firmware updated', 'Firmware update failed']) },
  20: {
    name: 'Security Audit Log',
    events: list(['Audit log cleared', 'Audit policy changed', 'Audit log disabled', 'Audit log enabled', 'Audit log exported', 'Audit log recovered']),
  },
  21: { name: 'Network Time', events: list(['Time set', 'Time synchronization enabled', 'Time synchronization disabled']) },
  22: {
    name: 'Network Administration',
    events: list(['TCP/IP settings set', 'Host name set', 'Domain name set', 'VLAN settings set', 'Link policy set', 'IPv6 settings set']),
  },
  23: { name: 'Storage Administration', events: list(['Global storage attributes set', 'Storage EACL changed', 'Storage FPACL changed', 'Storage write']) },
  24: { name: 'Event Manager', events: list(['Alert subscribed', 'Alert unsubscribed', 'Event log cleared', 'Event log frozen or unfrozen']) },
  25: {
    name: 'System Defense',
    events: list(['Filter added', 'Filter removed', 'Policy added', 'Policy removed', 'Default policy set', 'Heuristics option set', 'Heuristics state cleared']),
  },
  26: { name: 'Agent Presence', events: list(['Agent watchdog added', 'Agent watchdog removed', 'Agent watchdog action set']) },
  27: {
    name: 'Wireless Configuration',
    events: list([
      'Wireless profile added',
      'Wireless profile removed',
      'Wireless profile updated',
      'Local profile synchronization changed',
      'Wireless link preference changed',
      'Profile sharing with UEFI changed',
    ]),
  },
  28: { name: 'Endpoint Access Control', events: list(['EAC posture signer set', 'EAC enabled', 'EAC disabled', 'EAC posture state updated', 'EAC options set']) },
  29: { name: 'KVM', events: list(['KVM opt-in enabled', 'KVM opt-in disabled', 'KVM password changed', 'KVM consent succeeded', 'KVM consent failed']) },
  30: { name: 'User Consent', events: list(['Consent policy changed', 'Consent code sent', 'Consent request blocked']) },
  31: { name: 'BIOS Management', events: {} },
  32: { name: 'Screen Blanking', events: list(['Screen blanking started', 'Screen blanking ended']) },
  33: { name: 'Watchdog', events: list(['Watchdog reset triggers changed', 'Watchdog action pairing changed'], 1) },
};

/** "Boot options set" -> "boot-options-set". */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

export interface AuditEventName {
  app: string;
  event: string;
  /** Stable slug for switches: "reset", "user-added", "firmware-updated"... */
  action: string;
}

export function auditEventName(appId: number, eventId: number): AuditEventName {
  const app = AUDIT_APPS[appId];
  const event = app?.events[eventId];
  if (app && event) return { app: app.name, event, action: slug(event) };
  return {
    app: app?.name ?? `Application ${appId}`,
    event: `Event ${eventId}`,
    action: `app-${appId}-event-${eventId}`,
  };
}

/** The (appId, eventId) of an action slug, for code that writes records (the simulator, tests). */
export function auditEventId(action: string): { appId: number; eventId: number } {
  for (const [appId, app] of Object.entries(AUDIT_APPS)) {
    for (const [eventId, name] of Object.entries(app.events)) {
      if (slug(name) === action) return { appId: Number(appId), eventId: Number(eventId) };
    }
  }
  throw new Error(`no audit event named "${action}"`);
}
