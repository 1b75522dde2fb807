/**
 * How AMT/CIM/IPS class properties are typed (numbers, booleans, arrays, references), by class.
 * Each feature area keeps its classes in a file of its own here.
 */
import type { ClassSchema } from '../../wsman/typing';
import { IDENTITY_SCHEMAS } from './identity';
// inventory and audit log (issue 9)
import { INVENTORY_SCHEMAS } from './inventory';
import { POWER_SCHEMAS } from './power';

const SCHEMAS: Record<string, ClassSchema> = {
  ...POWER_SCHEMAS,
  ...IDENTITY_SCHEMAS,
  // inventory and audit log (issue 9)
  ...INVENTORY_SCHEMAS,
};

/** Schema of a class ("CIM_Chassis") or of a method's output ("CIM_BootService.SetBootConfigRole"). */
export function amtSchemaFor(name: string): ClassSchema | undefined {
  return SCHEMAS[name];
}
