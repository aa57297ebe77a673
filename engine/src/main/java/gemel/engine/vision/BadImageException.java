package gemel.engine.vision;

import java.io.IOException;

/** An image that cannot be used: unreadable, corrupt, truncated, of an unsupported kind, or too large. */
public final class BadImageException extends IOException {

    public BadImageException(String message) { super(message); }

    public BadImageException(String message, Throwable cause) { super(message, cause); }
}
