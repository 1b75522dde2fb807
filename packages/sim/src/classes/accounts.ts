/**
 * User accounts: AMT_AuthorizationService, the service consoles use to list, add and remove
 * Digest users and to rename the admin account. AMT keeps a password as its Digest HA1,
 * MD5(user:realm:password), sent base64 as DigestPassword; an account added here logs in over
 * HTTP Digest at once, a removed one no longer does. Return codes are AMT's PT_STATUS values.
 * Realms are stored and returned; the simulator does not restrict what a user may call by them.
 */
import type { SimDevice } from '../device';
import { ClassHandler, inputInt, inputText, MethodResult } from './types';
import type { InputObject } from '../request-envelope';

/** AMT's status codes for these methods. */
export const ACL_STATUS = {
  success: 0,
  invalidParameter: 36,
  invalidName: 12,
  notPermitted: 16,
  maxLimitReached: 23,
  invalidHandle: 2053,
  invalidPassword: 2054,
  invalidRealm: 2055,
  duplicate: 2058,
} as const;

/** Digest users besides the admin (AMT allows a few dozen; seven is the documented minimum). */
const MAX_USERS = 32;
/** EnumerateUserAclEntries returns at most this many handles per call. */
const HANDLES_PER_CALL = 50;
/** Realm numbers a user entry may hold (AMT's realm list: 2 = Redirection ... 24). */
const VALID_REALMS = new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 21, 23, 24]);

interface UserEntry {
  handle: number;
  user: string;
  /** 1 local only, 2 network only, 3 both. */
  access: number;
  realms: number[];
  enabled: boolean;
  ha1: string;
}

/** Whether the account can log in over the network now: enabled and not local-only. */
function syncLogin(d: SimDevice, u: UserEntry): void {
  if (u.enabled && u.access !== 0) d.digest.setAccount(u.user, u.ha1);
  else d.digest.removeAccount(u.user);
}

interface AclState {
  admin: string;
  users: UserEntry[];
  nextHandle: number;
  adminSet: boolean;
}

function acl(d: SimDevice): AclState {
  return d.classState<AclState>('AMT_AuthorizationService', () => ({ admin: d.adminUser, users: [], nextHandle: 1, adminSet: false }));
}

function list(input: InputObject, name: string): string[] {
  const v = input[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/** HA1 hex from the base64 DigestPassword, or undefined when it is not 16 bytes. */
function ha1Of(input: InputObject): string | undefined {
  const b64 = inputText(input, 'DigestPassword');
  if (b64 === undefined || !/^[A-Za-z0-9+/=\s]+$/.test(b64)) return undefined;
  const raw = Buffer.from(b64, 'base64');
  return raw.length === 16 ? raw.toString('hex') : undefined;
}

const validName = (s: string | undefined): s is string => s !== undefined && s.length >= 1 && s.length <= 32 && !/[:",<>&]/.test(s) && s !== '$$OsAdmin';

function realmsOf(input: InputObject): number[] | undefined {
  const r = list(input, 'Realms').map((x) => Number(x));
  return r.every((x) => Number.isInteger(x) && VALID_REALMS.has(x)) ? r : undefined;
}

function entry(d: SimDevice, input: InputObject): UserEntry | undefined {
  const h = inputInt(input, 'Handle');
  return acl(d).users.find((u) => u.handle === h);
}

const status = (code: number): MethodResult => ({ returnValue: code });

export const authorizationService: ClassHandler = {
  className: 'AMT_AuthorizationService',
  commonNs: true,
  instances: () => [
    {
      AllowHttpQopAuthOnly: 1,
      CreationClassName: 'AMT_AuthorizationService',
      ElementName: 'Intel(r) AMT Authorization Service',
      EnabledState: 5,
      Name: 'Intel(r) AMT Authorization Service',
      RequestedState: 12,
      SystemCreationClassName: 'CIM_ComputerSystem',
      SystemName: 'Intel(r) AMT',
    },
  ],
  methods: {
    /** Handles from StartIndex (1-based), at most 50 per call. */
    EnumerateUserAclEntries: ({ device, input }) => {
      const start = inputInt(input, 'StartIndex') ?? 1;
      const users = acl(device).users;
      if (start < 1) return status(ACL_STATUS.invalidParameter);
      const page = users.slice(start - 1, start - 1 + HANDLES_PER_CALL);
      return { out: { TotalCount: users.length, HandlesCount: page.length, Handles: page.map((u) => u.handle) }, returnValue: 0 };
    },
    GetUserAclEntryEx: ({ device, input }) => {
      const u = entry(device, input);
      if (!u) return status(ACL_STATUS.invalidHandle);
      return { out: { DigestUsername: u.user, AccessPermission: u.access, Realms: u.realms }, returnValue: 0 };
    },
    AddUserAclEntryEx: ({ device, input }) => {
      const s = acl(device);
      const user = inputText(input, 'DigestUsername');
      if (inputText(input, 'KerberosUserSid') !== undefined && user === undefined) return status(ACL_STATUS.notPermitted); // no Kerberos in the simulator
      if (!validName(user)) return status(ACL_STATUS.invalidName);
      const ha1 = ha1Of(input);
      if (!ha1) return status(ACL_STATUS.invalidPassword);
      const realms = realmsOf(input);
      if (!realms) return status(ACL_STATUS.invalidRealm);
      const access = inputInt(input, 'AccessPermission') ?? 2;
      if (access < 0 || access > 2) return status(ACL_STATUS.invalidParameter);
      if (user === s.admin || s.users.some((u) => u.user === user)) return status(ACL_STATUS.duplicate);
      if (s.users.length >= MAX_USERS) return status(ACL_STATUS.maxLimitReached);
      const handle = s.nextHandle++;
      const u: UserEntry = { handle, user, access, realms, enabled: true, ha1 };
      s.users.push(u);
      syncLogin(device, u);
      return { out: { Handle: handle }, returnValue: 0 };
    },
    UpdateUserAclEntryEx: ({ device, input }) => {
      const u = entry(device, input);
      if (!u) return status(ACL_STATUS.invalidHandle);
      const user = inputText(input, 'DigestUsername') ?? u.user;
      if (!validName(user)) return status(ACL_STATUS.invalidName);
      const realms = realmsOf(input);
      if (!realms) return status(ACL_STATUS.invalidRealm);
      const ha1 = ha1Of(input);
      if (inputText(input, 'DigestPassword') !== undefined && !ha1) return status(ACL_STATUS.invalidPassword);
      if (user !== u.user && (user === acl(device).admin || acl(device).users.some((x) => x.user === user))) return status(ACL_STATUS.duplicate);
      if (user !== u.user) device.digest.removeAccount(u.user);
      u.user = user;
      u.realms = realms;
      u.access = inputInt(input, 'AccessPermission') ?? u.access;
      if (ha1) u.ha1 = ha1;
      syncLogin(device, u);
      return status(0);
    },
    RemoveUserAclEntry: ({ device, input }) => {
      const s = acl(device);
      const u = entry(device, input);
      if (!u) return status(ACL_STATUS.invalidHandle);
      s.users = s.users.filter((x) => x !== u);
      device.digest.removeAccount(u.user);
      return status(0);
    },
    GetAdminAclEntry: ({ device }) => ({ out: { Username: acl(device).admin }, returnValue: 0 }),
    GetAdminAclEntryStatus: ({ device }) => ({ out: { IsDefault: !acl(device).adminSet }, returnValue: 0 }),
    GetAdminNetAclEntryStatus: ({ device }) => ({ out: { IsDefault: !acl(device).adminSet }, returnValue: 0 }),
    /** Rename the admin account and set its password; the old name stops working. */
    SetAdminAclEntryEx: ({ device, input }) => {
      const s = acl(device);
      const user = inputText(input, 'Username');
      if (!validName(user)) return status(ACL_STATUS.invalidName);
      const ha1 = ha1Of(input);
      if (!ha1) return status(ACL_STATUS.invalidPassword);
      if (s.users.some((u) => u.user === user)) return status(ACL_STATUS.duplicate);
      device.digest.removeAccount(s.admin);
      device.digest.setAccount(user, ha1);
      s.admin = user;
      s.adminSet = true;
      return status(0);
    },
    GetAclEnabledState: ({ device, input }) => {
      const u = entry(device, input);
      if (!u) return status(ACL_STATUS.invalidHandle);
      return { out: { Enabled: u.enabled }, returnValue: 0 };
    },
    SetAclEnabledState: ({ device, input }) => {
      const u = entry(device, input);
      if (!u) return status(ACL_STATUS.invalidHandle);
      u.enabled = inputText(input, 'Enabled') === 'true';
      syncLogin(device, u);
      return status(0);
    },
  },
};

export const accountClasses = [authorizationService];
