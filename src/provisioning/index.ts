// The provisioning capability as other capabilities see it.
export { provisioningOutputs, type ProvisioningOutputs } from "./outputs.js";
