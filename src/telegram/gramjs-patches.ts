/**
 * The one switch for our changes to gramjs: checks the installed version, then installs the fast crypto, the
 * lean transport and whole containers (no answer lost behind an error answer in the same container). Called once by the composition root before any client exists, so that every connection (the
 * bot's own included) runs the same code from its first packet instead of changing it at the first upload.
 */
import { type FastCryptoStatus, installFastCrypto } from "./fast-crypto.js";
import { checkGramjsVersion, installedGramjsVersion } from "./gramjs-internals.js";
import { installLeanTransport, leanTransportInstalled } from "./lean-transport.js";
import { installWholeContainers, wholeContainersInstalled } from "./whole-containers.js";

export interface GramjsPatchStatus extends FastCryptoStatus {
  transport: "lean" | "gramjs";
  /** "whole": every answer of a container reaches its request, even after an error answer. */
  containers: "whole" | "gramjs";
  /** The installed gramjs version (checked). */
  gramjs: string;
}

/**
 * Throws UserError GRAMJS_VERSION, before changing anything, when the installed gramjs is not the version the
 * patches were written against. Idempotent: a second call changes nothing and returns the same status.
 */
export function installGramjsPatches(): GramjsPatchStatus {
  const gramjs = installedGramjsVersion();
  checkGramjsVersion(gramjs);
  const crypto = installFastCrypto();
  installLeanTransport();
  installWholeContainers();
  return {
    ...crypto,
    transport: leanTransportInstalled() ? "lean" : "gramjs",
    containers: wholeContainersInstalled() ? "whole" : "gramjs",
    gramjs,
  };
}
