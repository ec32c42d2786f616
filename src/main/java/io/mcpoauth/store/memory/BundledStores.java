package io.mcpoauth.store.memory;

import io.mcpoauth.store.AccessTokenStore;
import io.mcpoauth.store.ApiKeyStore;
import io.mcpoauth.store.ClientStore;
import io.mcpoauth.store.CodeRecord;
import io.mcpoauth.store.ConsentStore;
import io.mcpoauth.store.GrantStore;
import io.mcpoauth.store.IdpStateRecord;
import io.mcpoauth.store.IdpTokenStore;
import io.mcpoauth.store.NoteStore;
import io.mcpoauth.store.ShortLivedStore;
import io.mcpoauth.store.Stores;
import io.mcpoauth.store.UserStore;

/**
 * {@link Stores} from given durable stores, with the short-lived records (access tokens, codes, sign-ins in flight)
 * in this process's memory: what the memory and the file backends share.
 */
public abstract class BundledStores implements Stores {
    /** The durable stores of a backend. */
    public record Durable(ClientStore clients, GrantStore grants, UserStore users, ConsentStore consents, ApiKeyStore apiKeys,
                          NoteStore notes, IdpTokenStore idpTokens) {}

    private final Durable durable;
    private final AccessTokenStore accessTokens = new MemoryAccessTokenStore(MemoryStores.MAX_ACCESS_TOKENS, MemoryStores.ACCESS_TOKENS_PER_GRANT);
    private final ShortLivedStore<CodeRecord> codes = new MemoryShortLivedStore<>(MemoryStores.MAX_SHORT_LIVED);
    private final ShortLivedStore<IdpStateRecord> idpStates = new MemoryShortLivedStore<>(MemoryStores.MAX_SHORT_LIVED);

    protected BundledStores(Durable durable) {
        this.durable = durable;
    }

    @Override
    public ClientStore clients() {
        return durable.clients();
    }

    @Override
    public GrantStore grants() {
        return durable.grants();
    }

    @Override
    public UserStore users() {
        return durable.users();
    }

    @Override
    public ConsentStore consents() {
        return durable.consents();
    }

    @Override
    public ApiKeyStore apiKeys() {
        return durable.apiKeys();
    }

    @Override
    public NoteStore notes() {
        return durable.notes();
    }

    @Override
    public IdpTokenStore idpTokens() {
        return durable.idpTokens();
    }

    @Override
    public AccessTokenStore accessTokens() {
        return accessTokens;
    }

    @Override
    public ShortLivedStore<CodeRecord> codes() {
        return codes;
    }

    @Override
    public ShortLivedStore<IdpStateRecord> idpStates() {
        return idpStates;
    }
}
