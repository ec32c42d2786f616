package io.mcpoauth.store.memory;

import io.mcpoauth.store.ApiKeyRecord;
import io.mcpoauth.store.ClientRecord;
import io.mcpoauth.store.ConsentRecord;
import io.mcpoauth.store.IdpTokenRecord;
import io.mcpoauth.store.NoteRecord;
import io.mcpoauth.store.RefreshFamily;
import io.mcpoauth.store.UserRecord;

/**
 * Everything in memory: for fast tests, and what a restart of such a server forgets. Two instances built from the
 * same {@link Data} share their records, which is how the contract tests model a restart.
 */
public final class MemoryStores extends BundledStores {
    /** The durable records; the short-lived ones (access tokens, codes, sign-ins in flight) belong to each instance. */
    public static final class Data {
        final MemoryMap<ClientRecord> clients = new MemoryMap<>();
        final MemoryMap<RefreshFamily> grants = new MemoryMap<>();
        final MemoryMap<UserRecord> users = new MemoryMap<>();
        final MemoryMap<ConsentRecord> consents = new MemoryMap<>();
        final MemoryMap<ApiKeyRecord> apiKeys = new MemoryMap<>();
        final MemoryMap<NoteRecord> notes = new MemoryMap<>();
        final MemoryMap<IdpTokenRecord> idpTokens = new MemoryMap<>();
    }

    public static final int MAX_ACCESS_TOKENS = 1_000_000;
    public static final int ACCESS_TOKENS_PER_GRANT = 5;
    /** The most records of each short-lived kind (codes, sessions, sign-ins in flight). */
    public static final int MAX_SHORT_LIVED = 100_000;

    public MemoryStores() {
        this(new Data());
    }

    public MemoryStores(Data data) {
        super(new Durable(new MapClientStore(data.clients), new MapGrantStore(data.grants), new MapUserStore(data.users),
                new MapConsentStore(data.consents), new MapApiKeyStore(data.apiKeys), new MapNoteStore(data.notes),
                new MapIdpTokenStore(data.idpTokens)));
    }

    @Override
    public String describe() {
        return "memory (nothing survives a restart)";
    }

    @Override
    public String problem() {
        return null;
    }

    @Override
    public void close() {}
}
