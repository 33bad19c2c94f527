// The provisioning capability as other capabilities see it.
export { provisioningOutputs, type ProvisioningOutputs } from "./outputs.js";
export { forgetRecords, recordedResources, RESOURCE_KIND } from "./records.js";
