package gemel.app.serve;

/**
 * A request the server answers with an error status and a JSON body {@code {"error": message, "field": field}}:
 * {@code field} names the offending part of the request (a JSON path such as {@code mention} or
 * {@code [2].image_base64}, or {@code body}), null when no single field is at fault.
 */
public final class HttpProblem extends Exception {
    private final int status;
    private final String field;

    public HttpProblem(int status, String field, String message) {
        super(message, null, false, false); // an answer to the client, not a failure: no stack trace
        this.status = status;
        this.field = field;
    }

    /** 400: the request is wrong in {@code field}. */
    public static HttpProblem badRequest(String field, String message) { return new HttpProblem(400, field, message); }

    public int status() { return status; }

    public String field() { return field; }
}
