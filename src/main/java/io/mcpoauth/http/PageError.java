package io.mcpoauth.http;

/** A refusal shown to a browser as an HTML error page (never a redirect): the status, a title and a sentence. */
public final class PageError extends RuntimeException {
    private final int status;
    private final String title;

    public PageError(int status, String title, String message) {
        super(message, null, false, false);
        this.status = status;
        this.title = title;
    }

    public int status() {
        return status;
    }

    public String title() {
        return title;
    }
}
