import { runStorageContractTests } from "./storage.contract.js";
import { MemoryStorage } from "./storage.js";

runStorageContractTests("MemoryStorage", (voters) => MemoryStorage.bootstrap(voters));
